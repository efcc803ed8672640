// Starts Swagger UI on /docs from the locally served bundle; no inline script, so the page's CSP needs none.
declare const SwaggerUIBundle: (options: Record<string, unknown>) => unknown;

window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  SwaggerUIBundle({ url: root?.dataset.spec ?? "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });
});
