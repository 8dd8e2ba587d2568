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

  // "Select all" boxes: <input type="checkbox" class="select-all" data-target="CLASS"> ticks every input.CLASS.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box && box.classList && box.classList.contains("select-all")) {
      document.querySelectorAll("input." + box.getAttribute("data-target")).forEach(function (b) {
        b.checked = box.checked;
      });
    }
  });

  // A status text rendered by the page in its language (data-NAME on the status element: upload_state.html).
  function text(el, name, fallback) {
    return el.getAttribute("data-" + name) || fallback;
  }

  // Uploads (forms with class upload-progress): sent in the background with a bar of the bytes sent, then
  // "checking" until the server's answer, which then replaces the page (and its address, after a redirect).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.classList || !form.classList.contains("upload-progress") || !window.FormData) {
      return;
    }
    event.preventDefault();
    var bar = form.querySelector(".upload-bar");
    var state = form.querySelector(".upload-state");
    var button = form.querySelector("button[type=submit]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable && bar) {
        bar.hidden = false;
        bar.value = Math.round((e.loaded * 100) / e.total);
        // data-progress is the page's sentence with "{percent}" where the number goes ("45%", "45 %")
        state.textContent = text(state, "progress", "{percent}%").replace("{percent}", bar.value);
      }
    });
    xhr.upload.addEventListener("load", function () {
      if (bar) {
        bar.hidden = false;
        bar.removeAttribute("value");
      }
      state.textContent = text(state, "checking", "");
    });
    xhr.addEventListener("load", function () {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      document.replaceChild(document.adoptNode(doc.documentElement), document.documentElement);
      if (xhr.responseURL) {
        window.history.replaceState(null, "", xhr.responseURL);
      }
    });
    xhr.addEventListener("error", function () {
      state.textContent = text(state, "failed", "");
      button.disabled = false;
    });
    button.disabled = true;
    state.textContent = text(state, "uploading", "");
    xhr.send(new FormData(form));
  });
})();
