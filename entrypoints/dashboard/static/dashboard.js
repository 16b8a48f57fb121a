// LLMObserve dashboard: small progressive enhancements. Every page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // Copy a secret (API key, invitation link) shown once.
  function setupCopy() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy-target"));
        if (!source) return;
        var text = source.value !== undefined ? source.value : source.textContent;
        var done = function () {
          var label = button.textContent;
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text.trim()).then(done, function () { selectText(source); });
        } else {
          selectText(source);
          try { document.execCommand("copy"); done(); } catch (e) { /* selected for manual copy */ }
        }
      });
    });
  }

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Ask before destructive posts (delete a cap, revoke a key, remove a member).
  function setupConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  // Selects that act at once (tenant switcher, role changes).
  function setupAutosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  // The custom range fields show when "Custom" is the range in use.
  function setupCustomRange() {
    document.querySelectorAll("[data-custom-range]").forEach(function (box) {
      var custom = document.querySelector(".segmented .seg:last-child");
      if (!custom || !box.classList.contains("hidden-until-custom")) return;
      custom.addEventListener("click", function (event) {
        event.preventDefault();
        box.classList.remove("hidden-until-custom");
        var first = box.querySelector("input[type=date]");
        if (first) first.focus();
      });
    });
  }

  // Breakdown tables show their first rows; the rest on demand.
  function setupShowRows() {
    document.querySelectorAll("[data-show-rows]").forEach(function (button) {
      button.addEventListener("click", function () {
        var card = button.closest(".card");
        card.querySelectorAll(".extra-row").forEach(function (row) { row.hidden = false; });
        button.remove();
      });
    });
  }

  // The scope value field matters for every scope but global.
  function setupCapForm() {
    var scope = document.getElementById("cap-scope");
    var field = document.getElementById("scope-value-field");
    if (!scope || !field) return;
    var sync = function () { field.hidden = scope.value === "global"; };
    scope.addEventListener("change", sync);
    sync();
  }

  // Cap progress refreshes while the page is open.
  function setupLiveCaps() {
    var list = document.querySelector("[data-live-caps]");
    if (!list) return;
    var url = list.getAttribute("data-live-caps");
    var every = parseInt(list.getAttribute("data-refresh-seconds") || "10", 10) * 1000;
    var refresh = function () {
      if (document.hidden) return;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data) data.caps.forEach(updateCap); })
        .catch(function () { /* next tick retries */ });
    };
    setInterval(refresh, every);
  }

  function updateCap(cap) {
    var row = document.querySelector('[data-cap-id="' + CSS.escape(cap.id) + '"]');
    if (!row) return;
    var bar = row.querySelector(".progress");
    bar.querySelector(".spent").style.width = cap.spent_width + "%";
    var reserved = bar.querySelector(".reserved");
    reserved.style.left = cap.spent_width + "%";
    reserved.style.width = cap.reserved_width + "%";
    bar.classList.toggle("warn", cap.level === "warn");
    bar.classList.toggle("over", cap.level === "over");
    bar.setAttribute("aria-valuenow", cap.percent);
    ["spent", "reserved", "percent", "resets"].forEach(function (name) {
      var node = row.querySelector('[data-field="' + name + '"]');
      if (node) node.textContent = cap[name + "_text"];
    });
  }

  // Clerk's hosted components, when the installation signs in with Clerk. Its script is
  // loaded from the configured Clerk frontend API by the page itself.
  function setupClerk() {
    var mount = document.querySelector("[data-clerk-component]");
    if (!mount) return;
    var target = mount.getAttribute("data-redirect") || "/";
    var tries = 0;
    var start = function () {
      if (!window.Clerk) {
        if (tries++ < 100) setTimeout(start, 100);
        return;
      }
      window.Clerk.load().then(function () {
        var kind = mount.getAttribute("data-clerk-component");
        if (kind === "user-profile") {
          window.Clerk.mountUserProfile(mount);
        } else if (window.Clerk.user) {
          window.location.assign(target);
        } else if (kind === "sign-up") {
          window.Clerk.mountSignUp(mount, { forceRedirectUrl: target, signInUrl: "/sign-in" });
        } else {
          window.Clerk.mountSignIn(mount, { forceRedirectUrl: target, signUpUrl: "/sign-up" });
        }
      });
    };
    start();
  }

  onReady(function () {
    setupClerk();
    setupCopy();
    setupConfirm();
    setupAutosubmit();
    setupCustomRange();
    setupShowRows();
    setupCapForm();
    setupLiveCaps();
  });
})();
