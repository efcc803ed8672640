import { LOGO_MAX_BYTES, type LogoType } from "../common/branding";
import { fromStrictBase64 } from "../lib/crypto";

export type Logo = { type: LogoType; bytes: Uint8Array };
export type LogoCheck = { ok: true; logo: Logo } | { ok: false; message: string };

const DATA_URL = /^data:([^,;]*)((?:;[^,;]*)*),(.*)$/s;
const LABELS: Record<string, LogoType> = {
  "image/png": "image/png",
  "image/jpeg": "image/jpeg",
  "image/jpg": "image/jpeg",
  "image/webp": "image/webp",
  "image/svg+xml": "image/svg+xml",
};
// A base64 text can only hold what its length allows; anything longer is refused before decoding.
const MAX_BASE64_CHARS = Math.ceil(LOGO_MAX_BYTES / 3) * 4 + 4;

/**
 * A logo given as a data URL (`data:image/png;base64,…`, or an SVG's text
 * percent-encoded): the image type is what its bytes are, and must agree
 * with the label; at most LOGO_MAX_BYTES once decoded.
 */
export function parseLogoDataUrl(value: string): LogoCheck {
  const m = DATA_URL.exec(value.trim());
  if (!m) return fail("must be a data URL (data:image/png;base64,…)");
  const label = (m[1] ?? "").trim().toLowerCase();
  const params = (m[2] ?? "")
    .toLowerCase()
    .split(";")
    .map((p) => p.trim());
  const labelled = LABELS[label];
  if (!labelled) return fail("must be a PNG, JPEG, WebP or SVG image (data:image/png, image/jpeg, image/webp or image/svg+xml)");
  const data = m[3] ?? "";
  let bytes: Uint8Array | null;
  if (params.includes("base64")) {
    const compact = data.replace(/\s+/g, "");
    if (compact.length > MAX_BASE64_CHARS) return tooLarge();
    bytes = fromStrictBase64(compact);
    if (!bytes) return fail("is not valid base64");
  } else {
    if (data.length > LOGO_MAX_BYTES * 3) return tooLarge();
    try {
      bytes = new TextEncoder().encode(decodeURIComponent(data));
    } catch {
      return fail("is not a valid percent-encoded data URL");
    }
  }
  if (bytes.length === 0) return fail("is empty");
  if (bytes.length > LOGO_MAX_BYTES) return tooLarge();
  const actual = detectImageType(bytes);
  if (!actual) return fail("is not a PNG, JPEG, WebP or SVG image (checked by its bytes)");
  if (actual !== labelled) return fail(`is labelled ${labelled} but its bytes are ${actual}`);
  return { ok: true, logo: { type: actual, bytes } };
}

/** The image type the bytes are, by their signature (an SVG by its text: an `<svg>` document); null for anything else. */
export function detectImageType(bytes: Uint8Array): LogoType | null {
  const starts = (sig: readonly number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "image/webp";
  return isSvgDocument(bytes) ? "image/svg+xml" : null;
}

/**
 * UTF-8 text whose root element is `<svg>`: an XML declaration, comments, a
 * doctype and whitespace may come first; the document ends with its `</svg>`.
 */
function isSvgDocument(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return false;
  }
  let rest = text.replace(/^\uFEFF/, "");
  const prolog = /^\s*(?:<\?xml[^>]*\?>|<!--[\s\S]*?-->|<!DOCTYPE\s+svg[^>[]*(?:\[[\s\S]*?\])?\s*>)/i;
  for (let m = prolog.exec(rest); m; m = prolog.exec(rest)) rest = rest.slice(m[0].length);
  rest = rest.trimStart();
  if (!/^<svg[\s>/]/.test(rest)) return false;
  return endsAsSvg(rest);
}

/** After the root's `</svg>` (or a self-closed `<svg …/>`) only whitespace and comments may follow. */
function endsAsSvg(doc: string): boolean {
  const close = doc.lastIndexOf("</svg");
  let tail: string;
  if (close >= 0) {
    const gt = doc.indexOf(">", close);
    if (gt < 0 || doc.slice(close + 5, gt).trim() !== "") return false;
    tail = doc.slice(gt + 1);
  } else {
    const gt = doc.indexOf(">");
    if (doc[gt - 1] !== "/") return false;
    tail = doc.slice(gt + 1);
  }
  for (let t = tail.trim(); t !== ""; t = t.trim()) {
    if (!t.startsWith("<!--")) return false;
    const end = t.indexOf("-->", 4);
    if (end < 0) return false;
    t = t.slice(end + 3);
  }
  return true;
}

const fail = (message: string): LogoCheck => ({ ok: false, message });
const tooLarge = () => fail(`must be at most ${LOGO_MAX_BYTES / 1024} KiB once decoded`);
