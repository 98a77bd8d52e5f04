// Idempotency-Key on every write htmx sends (server/core/idempotency.py): one key per submit
// intent, so that a double-click, a submit htmx queued behind the first, or a retry after an
// answer lost on the network is done once by the server and answered again. Loaded by the staff
// pages (base.html) and by the device screens (the kiosk), which share no other script.
//
// An intent belongs to the element that sends (a form, a button) and to what it sends (method,
// URL, values). It gets its key at its first request and keeps it for every resend until an
// answer arrives, a success or a refusal; a trigger that fired before that answer (the second
// click of a double-click, sent by htmx after the first answer) is the same intent too. After an
// answer, the next submit is a new intent with a new key; changed values are a new intent at once.
// Without an answer (network error, timeout, a 5xx or 429 the server did not keep) the key stays,
// so the user's retry cannot do the thing twice. `data-new-intent="<selector>"` on a control
// starts a new intent for that form when clicked (a kiosk's next customer, who may send exactly
// what the previous one sent).
(function () {
  "use strict";

  // crypto.randomUUID needs a secure context (https, 127.0.0.1); a kiosk on a LAN address over
  // plain http is not one: the same 122 random bits from crypto.getRandomValues there.
  function newKey() {
    if (window.isSecureContext && window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  function fingerprint(detail) {
    var parts = [detail.verb, detail.path];
    if (detail.formData && detail.formData.forEach) {
      detail.formData.forEach(function (value, name) {
        parts.push(name, typeof value === "string" ? value : [value.name, value.size, value.lastModified].join("/"));
      });
    }
    return JSON.stringify(parts);
  }

  var intents = new WeakMap();  // element -> {key, fingerprint, answeredAt (null: no answer yet)}

  document.addEventListener("htmx:configRequest", function (evt) {
    var detail = evt.detail;
    if (detail.verb === "get") return;
    var print = fingerprint(detail);
    var intent = intents.get(detail.elt);
    var trigger = detail.triggeringEvent;
    var same = intent && intent.fingerprint === print &&
      (intent.answeredAt === null || (trigger && trigger.timeStamp < intent.answeredAt));
    if (!same) {
      intent = {key: newKey(), fingerprint: print, answeredAt: null};
      intents.set(detail.elt, intent);
    }
    detail.headers["Idempotency-Key"] = intent.key;
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var config = evt.detail.requestConfig;
    var xhr = evt.detail.xhr;
    var intent = config && intents.get(config.elt);
    if (!intent || !xhr || config.headers["Idempotency-Key"] !== intent.key) return;
    if (xhr.status > 0 && xhr.status < 500 && xhr.status !== 429) intent.answeredAt = performance.now();
  });

  document.addEventListener("click", function (evt) {
    var starter = evt.target.closest && evt.target.closest("[data-new-intent]");
    var form = starter && document.querySelector(starter.dataset.newIntent);
    if (form) intents.delete(form);
  }, true);
})();
