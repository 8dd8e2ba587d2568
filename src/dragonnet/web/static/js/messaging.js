// dragonnet messaging: live inbox updates over server-sent events (no inline scripts: CSP script-src 'self').
// Updates the unread badge on every page that loads this file, and prepends new messages to the inbox list.
(function () {
  "use strict";
  if (!window.EventSource || window.__dragonnetMessaging) {
    return;
  }
  window.__dragonnetMessaging = true;

  function setUnread(n) {
    document.querySelectorAll("[data-live-unread]").forEach(function (el) {
      el.textContent = n > 0 ? String(n) : "";
    });
    var count = document.getElementById("inbox-unread-count");
    if (count) {
      count.textContent = String(n);
    }
    var nav = document.querySelector('a[data-nav="inbox"]');
    if (nav) {
      var badge = nav.querySelector(".msg-badge");
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "msg-badge";
        badge.setAttribute("data-live-unread", "");
        nav.appendChild(document.createTextNode(" "));
        nav.appendChild(badge);
      }
      badge.textContent = n > 0 ? String(n) : "";
    }
  }

  function tlpClass(level) {
    return "tlp tlp-" + String(level).replace("+", "-");
  }

  function addToList(msg) {
    var list = document.getElementById("inbox-list");
    if (!list || list.querySelector('li[data-id="' + msg.id + '"]')) {
      return;
    }
    var empty = document.getElementById("inbox-empty");
    if (empty) {
      empty.remove();
    }
    var li = document.createElement("li");
    li.className = "msg msg-unread msg-new";
    li.setAttribute("data-id", String(msg.id));
    li.setAttribute("data-kind", msg.kind);
    var tlp = document.createElement("span");
    tlp.className = tlpClass(msg.sharing_level);
    tlp.textContent = "TLP:" + String(msg.sharing_level).toUpperCase();
    var link = document.createElement("a");
    // Links are server-made paths; refuse anything else.
    link.href = /^\/[a-z]+\/[0-9]+$/.test(msg.link) ? msg.link : "/inbox";
    link.textContent = msg.subject;
    li.appendChild(tlp);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(link);
    list.insertBefore(li, list.firstChild);
  }

  function announce(msg) {
    var live = document.getElementById("msg-live");
    if (!live) {
      return;
    }
    live.hidden = false;
    live.textContent = "New: " + msg.subject;
  }

  function start() {
    var box = document.getElementById("inbox");
    var url = "/messages/events";
    if (box && box.getAttribute("data-last-id")) {
      url += "?after=" + encodeURIComponent(box.getAttribute("data-last-id"));
    }
    var source = new EventSource(url);
    source.addEventListener("message", function (event) {
      var msg;
      try {
        msg = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      addToList(msg);
      announce(msg);
    });
    source.addEventListener("unread", function (event) {
      try {
        setUnread(JSON.parse(event.data).unread);
      } catch (e) {
        /* ignore */
      }
    });
    source.addEventListener("logout", function () {
      source.close();
    });
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
