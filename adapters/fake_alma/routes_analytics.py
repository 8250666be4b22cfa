"""Analytics: a report's rows a page at a time, behind a resumption token (rule O5).

XML is the shape of ``ref:scriptotek-php-alma-client__analytics_response*.xml``: ``<report>``
around a ``<QueryResult>`` with ``ResumptionToken`` (first page only), ``IsFinished`` and
``ResultXml/rowset`` (the schema on the first page, then ``Row``s of ``ColumnN`` cells). In JSON
Alma sends that ``<QueryResult>`` as the one string of ``anies``, with the misleading UTF-16
declaration of every ``anies`` (as clients of the JSON form read it: UCLA's alma-api-client,
TU Graz's dbp relay). The fake does not apply ``filter``: it is accepted and logged only.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.fake_alma import errors, marc
from adapters.fake_alma.state_workflows import SAW_TYPES, ReportPage
from adapters.fake_alma.web import fake, flag, institution_code, wants_xml

ROWSET_NAMESPACE = "urn:schemas-microsoft-com:xml-analysis:rowset"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
MIN_LIMIT, MAX_LIMIT, DEFAULT_LIMIT = 25, 1000, 25


def query_result_xml(page: ReportPage) -> str:
    """The ``<QueryResult>`` element of one page, as text."""
    parts = ["<QueryResult>"]
    if page.token is not None:
        parts.append(f"<ResumptionToken>{escape(page.token)}</ResumptionToken>")
    parts.append(f"<IsFinished>{'true' if page.finished else 'false'}</IsFinished>")
    if page.columns is None and not page.rows:
        # Still loading: ref:scriptotek-php-alma-client__analytics_still_loading_response.xml
        parts.append("<ResultXml/>")
    else:
        namespace = f' xmlns="{ROWSET_NAMESPACE}"' if page.rowset_namespace else ""
        parts.append(f"<ResultXml><rowset{namespace}>")
        if page.columns is not None:
            parts.append(_schema(page))
        for row in page.rows:
            cells = "".join(
                f"<{name}>{escape(value)}</{name}>" if value else f"<{name}/>"
                for name, value in row
            )
            parts.append(f"<Row>{cells}</Row>")
        parts.append("</rowset></ResultXml>")
    parts.append("</QueryResult>")
    return "".join(parts)


def _schema(page: ReportPage) -> str:
    elements = []
    for column in page.columns or ():
        heading = f" saw-sql:columnHeading={quoteattr(column.heading)}" if page.col_names else ""
        elements.append(
            '<xsd:element maxOccurs="1" minOccurs="0"'
            f" name={quoteattr(column.name)}{heading}"
            f" saw-sql:displayFormula={quoteattr(column.formula)}"
            f" saw-sql:type={quoteattr(column.saw_type)}"
            f" type={quoteattr(SAW_TYPES.get(column.saw_type, 'xsd:string'))}/>"
        )
    return (
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:saw-sql="urn:saw-sql"'
        f' targetNamespace="{ROWSET_NAMESPACE}">'
        '<xsd:complexType name="Row"><xsd:sequence>'
        + "".join(elements)
        + "</xsd:sequence></xsd:complexType></xsd:schema>"
    )


def report_xml(page: ReportPage) -> str:
    """The XML answer: ``<report>`` around the page's ``<QueryResult>``."""
    return f"{DECLARATION}<report>{query_result_xml(page)}</report>"


def report_json(page: ReportPage) -> dict[str, Any]:
    """The JSON answer: the ``<QueryResult>`` as the one string of ``anies``."""
    return {"anies": [marc.ANIES_DECLARATION + query_result_xml(page)]}


def page_limit(raw: str | None) -> int:
    """``limit``: 25 to 1000, 25 when absent (Alma's range; the error code is *unverified*)."""
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise errors.invalid_parameter("limit", raw) from None
    if not MIN_LIMIT <= limit <= MAX_LIMIT:
        raise errors.invalid_parameter("limit", raw)
    return limit


async def reports(request: Request) -> Response:
    """``GET /analytics/reports?path=&limit=&col_names=&filter=`` then ``?token=``."""
    params = request.query_params
    page = fake(request).state.analytics_page(
        institution_code(request),
        path=params.get("path"),
        token=params.get("token"),
        limit=page_limit(params.get("limit")),
        col_names=flag(request, "col_names") is not False,
    )
    if wants_xml(request):
        return Response(report_xml(page), media_type="application/xml")
    return JSONResponse(report_json(page))


routes = [
    Route("/almaws/v1/analytics/reports", reports, methods=["GET"]),
]
