// Run by the browser test through execute_script: returns [tag, class, ratio] for every visible
// element with text of its own whose contrast with its effective background (the first opaque
// background up the tree) is under 4.5:1, WCAG's AA level for normal text.
function channel(c) { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }
function luminance(rgb) { return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]); }
function parse(color) { const m = color.match(/[\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; }
function background(element) {
  for (let e = element; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) { return c; }
  }
  return [255, 255, 255, 1];
}
const worst = [];
for (const element of document.querySelectorAll('body *')) {
  const own = Array.from(element.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || element.offsetParent === null || element.closest('canvas, script')) { continue; }
  const fg = luminance(parse(getComputedStyle(element).color));
  const bg = luminance(background(element));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  if (ratio < 4.5) { worst.push([element.tagName, element.className, ratio.toFixed(2)]); }
}
return worst;
