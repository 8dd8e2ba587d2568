// dragonnet: small behaviours of the pages. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";

  // A page restored from the back/forward cache is not re-checked by the server: reload it, so that after
  // logout the back button shows the login page and never a cached page of data.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      window.location.reload();
    }
  });

  // State-changing htmx requests carry the session's CSRF token (read from the logout form).
  document.addEventListener("htmx:configRequest", function (event) {
    var field = document.querySelector("form.logout input[name=csrf_token]");
    if (field && event.detail && event.detail.headers) {
      event.detail.headers["X-CSRF-Token"] = field.value;
    }
  });
})();
