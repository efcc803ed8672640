/**
 * The accent colour as the pages use it: white text on it (buttons, the
 * selected tab) and it as text on the page's white and light-grey panels
 * (links, secondary buttons). WCAG 2 asks 4.5:1 for normal text; a colour
 * that falls short is darkened, keeping its hue, until every pair passes.
 */
export const MIN_CONTRAST = 4.5;
/** The backgrounds the accent is text on: the page and its panels (styles.css `--bg`, `--panel`). */
const BACKGROUNDS = ["#ffffff", "#f4f4f5"] as const;
const TEXT_ON_ACCENT = "#ffffff";

type Rgb = [number, number, number];

export function parseHex(hex: string): Rgb {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [Number.parseInt(m[1] ?? "", 16), Number.parseInt(m[2] ?? "", 16), Number.parseInt(m[3] ?? "", 16)];
}

export const toHex = (rgb: Rgb) => `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("")}`;

/** WCAG 2 relative luminance of an sRGB colour. */
export function relativeLuminance(hex: string): number {
  const [r, g, b] = parseHex(hex).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio of two colours, 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const passes = (hex: string) =>
  contrastRatio(hex, TEXT_ON_ACCENT) >= MIN_CONTRAST && BACKGROUNDS.every((bg) => contrastRatio(hex, bg) >= MIN_CONTRAST);

/**
 * The accent to use for `hex`: itself when text keeps 4.5:1 on it and it keeps
 * 4.5:1 as text; otherwise the lightest darker shade of the same hue that
 * does (black, at worst, always does).
 */
export function accessibleAccent(hex: string): { accent: string; text: string; darkened: boolean } {
  const original = toHex(parseHex(hex));
  if (passes(original)) return { accent: original, text: TEXT_ON_ACCENT, darkened: false };
  const rgb = parseHex(original);
  // Scaling every channel by one factor darkens without changing the hue; the search finds the largest factor that passes.
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 24; i++) {
    const mid = (lo + hi) / 2;
    if (passes(toHex(rgb.map((c) => c * mid) as Rgb))) lo = mid;
    else hi = mid;
  }
  let accent = toHex(rgb.map((c) => c * lo) as Rgb);
  // Rounding to whole channels could land a hair under the line: step down until it passes.
  for (let f = lo; !passes(accent) && f > 0; f -= 0.005) accent = toHex(rgb.map((c) => c * Math.max(f, 0)) as Rgb);
  if (!passes(accent)) accent = "#000000";
  return { accent, text: TEXT_ON_ACCENT, darkened: true };
}
