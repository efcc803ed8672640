/**
 * The operator's brand as the server put it on the page (data attributes of
 * #app): the product name, the logo's address (an <img>, never inlined) and
 * the footer's links. The accent arrives as a stylesheet, not through here.
 */
const data = document.getElementById("app")?.dataset ?? {};

export const brand = {
  productName: data.productName ?? "",
  logo: data.logo || null,
  supportUrl: data.supportUrl || null,
  docsUrl: data.docsUrl || null,
};

/** Cloudflare Access stands in front of this page (the server saw its assertion): the console signs in through it. */
export const behindAccess = data.behindAccess === "1";

/** The logo (if any) and the product name, for the page's header. */
export function BrandMark() {
  return (
    <span class="brand">
      {brand.logo ? <img class="brand-logo" src={brand.logo} alt="" /> : null}
      <span class="brand-name">{brand.productName}</span>
    </span>
  );
}

/** The footer: the operator's support and documentation links, when set. */
export function BrandFooter() {
  if (!brand.supportUrl && !brand.docsUrl) return null;
  return (
    <footer class="brand-footer">
      {brand.supportUrl ? (
        <a href={brand.supportUrl} rel="noopener noreferrer" target="_blank">
          Support
        </a>
      ) : null}
      {brand.docsUrl ? (
        <a href={brand.docsUrl} rel="noopener noreferrer" target="_blank">
          Documentation
        </a>
      ) : null}
    </footer>
  );
}
