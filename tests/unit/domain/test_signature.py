"""Rule W2: only a body signed with the webhook secret is accepted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.scf.signature import SIGNATURE_HEADER, sign, verify

from .samples import fixture_bytes

LOAN_RETURNED = "lulibrary-alma-webhook-handler__loan_returned_event.body.json"
REQUEST_CANCELED = "lulibrary-alma-webhook-handler__request_canceled_event.body.json"
LOAN_CREATED = "lulibrary-alma-webhook-handler__loan_created_event.body.json"


def test_W2_the_signature_header_is_X_Exl_Signature() -> None:
    assert SIGNATURE_HEADER == "X-Exl-Signature"


def test_W2_lancaster_loan_returned_vector_signs_the_raw_body() -> None:
    body = fixture_bytes(LOAN_RETURNED)
    assert sign("secretkey", body) == "Yzugn+CyVX4fSuC4Hpukr2ykqXawjExr+NmN/WyVj0I="
    assert verify("secretkey", body, "Yzugn+CyVX4fSuC4Hpukr2ykqXawjExr+NmN/WyVj0I=")


def test_W2_lancaster_request_canceled_and_loan_created_vectors_verify() -> None:
    assert verify(
        "secretkey", fixture_bytes(REQUEST_CANCELED), "yNnQNC2a7vCO/XnilUuJU7BNgtW8dGdAh0kIn2K1aPU="
    )
    assert verify(
        b"secretkey", fixture_bytes(LOAN_CREATED), b"vqYqdGnnhx2AWnMgnLr/vqpS7YRb7VEGi8Vfhq+GlFQ="
    )


def test_W2_mit_vector_over_a_plain_text_body() -> None:
    body = b"The POST request body"
    assert sign("itsasecret", body) == "e9SHoXK4MZrSGqhglMK4w+/u1pjYn0bfTEYtcFqj7CE="
    assert verify("itsasecret", body, "e9SHoXK4MZrSGqhglMK4w+/u1pjYn0bfTEYtcFqj7CE=")


def test_W2_surrounding_whitespace_in_the_header_does_not_matter() -> None:
    body = b"The POST request body"
    assert verify("itsasecret", body, " e9SHoXK4MZrSGqhglMK4w+/u1pjYn0bfTEYtcFqj7CE=\r\n")


def test_W2_a_missing_or_empty_signature_is_rejected() -> None:
    body = fixture_bytes(LOAN_RETURNED)
    assert not verify("secretkey", body, None)
    assert not verify("secretkey", body, "")


def test_W2_without_a_secret_nothing_verifies_it_fails_closed() -> None:
    body = b"The POST request body"
    assert not verify(None, body, sign("", body))
    assert not verify("", body, sign("", body))


def test_W2_the_right_signature_under_the_wrong_secret_is_rejected() -> None:
    assert not verify(
        "itsasecret ", b"The POST request body", "e9SHoXK4MZrSGqhglMK4w+/u1pjYn0bfTEYtcFqj7CE="
    )


def test_W2_a_malformed_header_is_rejected_without_raising() -> None:
    body = b"The POST request body"
    for header in ("not base64 at all!", "é" * 44, "\ud800", b"\xff\xfe", "=" * 10_000):
        assert not verify("itsasecret", body, header)


def test_W2_a_body_reserialised_from_json_no_longer_verifies() -> None:
    # the signature is over the bytes Alma sent, not over any re-encoding of the same JSON
    import json

    body = fixture_bytes(LOAN_RETURNED)
    reencoded = json.dumps(json.loads(body)).encode()
    assert not verify("secretkey", reencoded, "Yzugn+CyVX4fSuC4Hpukr2ykqXawjExr+NmN/WyVj0I=")


@given(st.data())
def test_W2_flipping_any_byte_of_a_signed_body_is_rejected(data: st.DataObject) -> None:
    body = fixture_bytes(LOAN_RETURNED)
    position = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    tampered = bytearray(body)
    tampered[position] ^= flip
    assert not verify("secretkey", bytes(tampered), "Yzugn+CyVX4fSuC4Hpukr2ykqXawjExr+NmN/WyVj0I=")


@given(secret=st.text(min_size=1), body=st.binary())
def test_W2_whatever_is_signed_with_the_secret_verifies(secret: str, body: bytes) -> None:
    assert verify(secret, body, sign(secret, body))


@given(secret=st.text(min_size=1), body=st.binary(), header=st.text() | st.binary())
def test_W2_verify_never_raises(secret: str, body: bytes, header: str | bytes) -> None:
    assert verify(secret, body, header) in (True, False)
