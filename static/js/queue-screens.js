// Queue screens: the kiosk (取号机) and TV (叫号屏) that devices open with their token, and the
// counter chooser of the staff 【叫号】 page. Device screens have no session, so they do not load
// app.js (it sends a closed socket to /login): this file keeps their socket, shows the
// reconnecting and revoked states, and runs the kiosk's steps and the TV's clock and voice.
(function () {
  "use strict";

  var body = document.body;
  var RETRY_CODES = [1006, 1011, 1012, 1013];  // the ws extension reconnects after these by itself
  var REVOKED_CODES = [4401, 4403];

  function show(el, on) { if (el) el.hidden = !on; }
  function byId(id) { return document.getElementById(id); }

  // --- the 【叫号】 page: remember the chosen counter, restore it on the next visit -------------
  function counterPage() {
    var KEY = "weifu.queue.counter";
    var chooser = byId("q-desk-chooser");
    var desk = document.querySelector("[data-desk-counter]");
    if (desk) {
      try { localStorage.setItem(KEY, desk.dataset.deskCounter); } catch (e) { /* private mode */ }
    } else {
      var saved = null;
      try { saved = localStorage.getItem(KEY); } catch (e) { /* private mode */ }
      // only when no counter was asked for: a page that could not open one must not loop
      var option = saved && !/[?&]counter_id=/.test(window.location.search) &&
        chooser.querySelector('option[value="' + saved.replace(/\D/g, "") + '"]');
      if (option) { window.location.replace("/queue/counter?counter_id=" + option.value); return; }
    }
    chooser.addEventListener("change", function (evt) {
      if (evt.target.name === "counter_id" && evt.target.value) chooser.submit();
    });
  }
  if (byId("q-desk-chooser")) counterPage();
  if (!body.classList.contains("q-screen") || !window.htmx) return;

  // --- device screens: socket, reconnect, revocation --------------------------------------------
  var isTv = body.classList.contains("q-tv-screen");
  var device = window.queueScreen = {socket: null, wrapper: null, off: false};

  // The first retry comes within a second, later ones back off to at most 15 s.
  htmx.config.wsReconnectDelay = function (retries) {
    return Math.min(1000 * Math.pow(2, retries), 15000) * (0.5 + Math.random() / 2);
  };

  function refresh() { if (!device.off) htmx.trigger(body, "screen:refresh"); }

  function switchOff() {
    if (device.off) return;
    device.off = true;
    body.classList.remove("q-screen-is-offline");
    // no numbers stay on a screen whose link was revoked
    document.querySelectorAll("[data-live-region]").forEach(function (el) { el.innerHTML = ""; });
    show(byId("q-reconnect"), false);
    show(byId("q-tv-voice"), false);
    show(byId("q-off"), true);
    if (device.socket) device.socket.close();
    if (isTv) tv.stop();
  }

  body.addEventListener("htmx:wsOpen", function (evt) {
    var socket = evt.detail.event.target;
    if (device.off) { socket.close(); return; }
    device.socket = socket;
    device.wrapper = evt.detail.socketWrapper;
    body.classList.remove("q-screen-is-offline");
    show(byId("q-reconnect"), false);
    // Whatever happened while there was no socket (or since the page was drawn) is fetched now.
    if (isTv) tv.catchUp();
    refresh();
  });

  body.addEventListener("htmx:wsClose", function (evt) {
    var event = evt.detail.event || {};
    if (REVOKED_CODES.indexOf(event.code) >= 0) { switchOff(); return; }
    if (device.off || event.target !== device.socket) return;  // an older socket, already replaced
    device.socket = null;
    body.classList.add("q-screen-is-offline");
    show(byId("q-reconnect"), true);
    if (isTv) tv.dropped();
    if (RETRY_CODES.indexOf(event.code) < 0 && device.wrapper) {
      var wrapper = device.wrapper;  // e.g. a proxy's 1001: the extension would not retry
      setTimeout(function () { if (!device.off && !device.socket) wrapper.reconnect(); }, 2000 + Math.random() * 1000);
    }
  });

  body.addEventListener("htmx:wsAfterMessage", function (evt) {
    var doc = new DOMParser().parseFromString(String(evt.detail.message), "text/html");
    var el = doc.getElementById("live-signal");
    if (!el || device.off) return;
    if (el.dataset.kick) { switchOff(); return; }
    if (el.dataset.topic === "live") {
      // the server's live side lost its broker: 重新连接中… until it is back, when it closes the
      // socket (1012), the screen reconnects and fetches everything again
      if (el.dataset.kind === "down") {
        body.classList.add("q-screen-is-offline");
        show(byId("q-reconnect"), true);
        if (isTv) tv.dropped();
      }
      return;
    }
    if (el.dataset.topic !== "queue" || el.dataset.kind === "devices") return;
    if (isTv && (el.dataset.kind === "call" || el.dataset.kind === "recall") && el.dataset.say) {
      tv.heard(el.dataset.ref, el.dataset.kind, el.dataset.say);
    }
    refresh();
  });

  body.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr.status === 401 || xhr.status === 403) { switchOff(); return; }
    if (!isTv) kiosk.failed(evt.detail.elt, xhr);
  });
  body.addEventListener("htmx:sendError", function (evt) {
    if (!isTv) kiosk.failed(evt.detail.elt, null);
  });

  // A slow safety net: numbers never stay stale for long, even if an event went missing, and the
  // board moves to the new day at midnight.
  setInterval(refresh, 60000);

  // --- clock, in the tenant's time zone ---------------------------------------------------------
  var zone = body.dataset.tz || "Asia/Shanghai";
  function part(options) {
    try { return new Intl.DateTimeFormat("zh-CN", Object.assign({timeZone: zone}, options)); }
    catch (e) { return new Intl.DateTimeFormat("zh-CN", options); }
  }
  var formats = {
    date: part({year: "numeric", month: "long", day: "numeric", weekday: "long"}),
    time: part({hour: "2-digit", minute: "2-digit", hourCycle: "h23"}),
    seconds: part({hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"})
  };
  function tick() {
    var now = new Date();
    document.querySelectorAll("[data-clock]").forEach(function (el) {
      var f = formats[el.dataset.clock];
      if (f) el.textContent = f.format(now);
    });
  }
  tick();
  setInterval(tick, 1000);

  // --- TV: voice announcements ------------------------------------------------------------------
  // Each call is spoken twice; announcements wait for the previous one's end, so quick calls are
  // all spoken, in order, and none is cut off (speechSynthesis.cancel() is never used). A browser
  // may refuse to speak before someone touched the page (Chrome does, unless it was started with
  // --autoplay-policy=no-user-gesture-required: see README). The board never waits for that: the
  // small 【点击开启语音】 in the header shows only where speaking needs a gesture, and any click
  // or key on the TV (its remote) gives one.
  var MAX_QUEUED = 12;
  var speech = window.queueSpeech = {queue: [], spoken: [], current: null, blocked: false};

  function speechSupported() { return !!(window.speechSynthesis && window.SpeechSynthesisUtterance); }

  // Whether this page may make sound without a gesture, asked of the browser's autoplay policy
  // (speech follows it): a new AudioContext starts "running" only where sound needs no gesture.
  function soundUnprompted() {
    if (navigator.userActivation && navigator.userActivation.hasBeenActive) return true;
    if (typeof navigator.getAutoplayPolicy === "function") {
      try { return navigator.getAutoplayPolicy("audiocontext") === "allowed"; } catch (e) { /* older form */ }
    }
    var Sound = window.AudioContext || window.webkitAudioContext;
    if (!Sound) return true;  // cannot tell: speak, and a refusal ("not-allowed") shows the button
    try {
      var probe = new Sound();
      var running = probe.state === "running";
      if (probe.close) probe.close();
      return running;
    } catch (e) { return true; }
  }

  function blocked(on) {
    speech.blocked = on;
    show(byId("q-tv-voice"), on && !device.off);
  }

  function speakNext() {
    var synth = window.speechSynthesis;
    if (speech.current || !speech.queue.length || !speechSupported() || device.off) return;
    var text = speech.queue.shift();
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "zh-CN";
    utterance.rate = 0.9;
    var finished = false;
    // Some engines never fire onend; the next announcement then starts after this long, without
    // cancelling anything (speak() queues behind whatever is still being said).
    var watchdog = setTimeout(function () { done(true); }, 20000);
    function done(spoken) {  // this announcement is over (said, or failed in the engine): next
      if (finished) return;
      finished = true;
      clearTimeout(watchdog);
      speech.current = null;
      if (spoken) {
        speech.spoken.push(text);
        if (speech.blocked) blocked(false);  // it spoke after all: no button
      }
      speakNext();
    }
    utterance.onend = function () { done(true); };
    utterance.onerror = function (evt) {
      if (evt && evt.error === "not-allowed") {  // no gesture yet: keep it and ask for one
        finished = true;
        clearTimeout(watchdog);
        speech.current = null;
        speech.queue.unshift(text);
        blocked(true);
        return;
      }
      done(false);
    };
    speech.current = utterance;  // kept referenced: Chrome may lose the onend of a collected utterance
    synth.speak(utterance);
  }

  function announce(text) {
    speech.queue.push(text, text);
    if (speech.queue.length > MAX_QUEUED) speech.queue.splice(0, speech.queue.length - MAX_QUEUED);
    speakNext();
  }
  speech.announce = announce;

  // A click or a key while speaking is refused: the gesture the browser waits for. What was
  // refused meanwhile is old news but the latest call, said at once (inside the gesture).
  function unblock() {
    if (!speech.blocked || device.off) return;
    blocked(false);
    if (speech.queue.length > 2) speech.queue.splice(0, speech.queue.length - 2);
    if (!speech.queue.length) speech.queue.push("语音播报已开启");
    speakNext();
  }

  // --- TV: the board ----------------------------------------------------------------------------
  var FLASH_MS = 3600;  // .q-tv-flash: 4 × 0.9 s
  var tv = {
    seenUntil: 0,       // the newest call (server ms) this screen has shown or announced
    heardSince: {},     // ticket ids announced from events since the socket (re)opened
    caughtUp: {},       // ticket id -> when a catch-up announced it
    catchUpNext: false, // the next board fetched announces the calls it missed
    lastKey: null,      // the current call shown (ticket id and its number of calls)
    flashKey: null,
    flashAt: 0,
    heard: function (ticketId, kind, say) {
      var recent = tv.caughtUp[ticketId];
      tv.heardSince[ticketId] = true;
      if (kind === "call" && recent && Date.now() - recent < 3000) return;  // a catch-up just said it
      announce(say);
    },
    dropped: function () { tv.heardSince = {}; },
    catchUp: function () { tv.catchUpNext = true; },
    stop: function () { speech.queue.length = 0; }
  };

  function boardCalls(root) {
    return Array.prototype.map.call(root.querySelectorAll("[data-called-ms]"), function (el) {
      return {id: el.dataset.id, ms: Number(el.dataset.calledMs), say: el.dataset.say};
    });
  }

  function afterBoard(board, catchUp) {
    var grid = board.querySelector("[data-now-ms]");
    var calls = boardCalls(board);
    if (catchUp && grid) {
      var now = Number(grid.dataset.nowMs);
      calls.filter(function (c) {
        return c.ms > tv.seenUntil && now - c.ms < 120000 && !tv.heardSince[c.id];
      }).sort(function (a, b) { return a.ms - b.ms; }).forEach(function (c) {
        tv.caughtUp[c.id] = Date.now();
        announce(c.say);
      });
    }
    calls.forEach(function (c) { tv.seenUntil = Math.max(tv.seenUntil, c.ms); });
    // A new call or a recall makes the current number flash for a few seconds; a board fetched
    // again meanwhile carries the flash on where it was rather than restarting it.
    var current = byId("tv-current");
    var key = current ? current.dataset.callKey || "" : "";
    if (tv.lastKey !== null && key && key !== tv.lastKey) { tv.flashKey = key; tv.flashAt = Date.now(); }
    var elapsed = Date.now() - tv.flashAt;
    if (current && key === tv.flashKey && elapsed < FLASH_MS) {
      current.style.animationDelay = -elapsed + "ms";
      current.classList.add("q-tv-flash");
    }
    tv.lastKey = key;
  }

  if (isTv) {
    var board = byId("tv-board");
    afterBoard(board, false);
    blocked(speechSupported() && !soundUnprompted());
    body.addEventListener("htmx:beforeRequest", function (evt) {
      if (evt.detail.elt !== board) return;
      evt.detail.xhr.qCatchUp = tv.catchUpNext;  // only a board asked for after the socket opened catches up
      tv.catchUpNext = false;
    });
    // after settling: until then htmx keeps the old attributes on elements whose id stays
    body.addEventListener("htmx:afterSettle", function (evt) {
      if (evt.detail.target === board) afterBoard(board, evt.detail.xhr && evt.detail.xhr.qCatchUp);
    });
    body.addEventListener("htmx:afterRequest", function (evt) {
      if (evt.detail.elt === board && !evt.detail.successful && evt.detail.xhr && evt.detail.xhr.qCatchUp) {
        tv.catchUpNext = true;  // try again with the next fetch
      }
    });
    body.addEventListener("click", unblock);
    body.addEventListener("keydown", unblock);
  }

  // --- kiosk: service → phone → ticket; 预约签到 → ticket; 服务评价 ----------------------------------
  // Each keypad form (the phone of 【取号】, the code of 【预约签到】) holds its digits in a hidden
  // field (`data-keypad-value`), shows them in its display and says its refusals under it.
  var kiosk = {failed: function () {}};
  var root = byId("kiosk");
  if (root) {
    var form = byId("kiosk-form");
    var idleTimer = null;
    var countdown = null;

    var step = function (name) {
      root.querySelectorAll("[data-step]").forEach(function (s) { s.hidden = s.dataset.step !== name; });
      root.dataset.current = name;
      clearInterval(countdown);
      touch();
    };
    var pad = function (f) {
      return {
        value: f.querySelector("[data-keypad-value]"),
        display: f.querySelector("[data-keypad-display]"),
        error: f.querySelector("[data-keypad-error]"),
        max: Number(f.dataset.max),
        pattern: new RegExp(f.dataset.pattern)
      };
    };
    var setDigits = function (f, value) {
      var p = pad(f);
      p.value.value = value;
      // a phone number reads 138 0000 1111; a code of 6 digits or fewer stays as typed
      var shown = f === form || value.length > 6 ? value.replace(/^(\d{3})(\d{0,4})(\d{0,4})(\d*)$/, function (_, a, b, c, d) {
        return [a, b, c, d].filter(Boolean).join(" ");
      }) : value;
      p.display.textContent = value ? shown : p.display.dataset.placeholder;
      p.display.classList.toggle("q-kiosk-display-empty", !value);
    };
    // a refusal is said on the keypad screen, the digits marked and kept for correcting
    var say = function (f, text, wrong) {
      var p = pad(f);
      p.error.textContent = text;
      p.display.classList.toggle("q-kiosk-display-error", !!wrong);
    };
    var countDown = function () {
      var counter = root.querySelector("[data-step]:not([hidden]) [data-countdown]");
      if (!counter) return;
      var left = Number(counter.textContent);
      countdown = setInterval(function () {
        left -= 1;
        counter.textContent = left;
        if (left <= 0) reset();
      }, 1000);
    };
    var reset = function () {
      root.querySelectorAll("[data-keypad]").forEach(function (f) { setDigits(f, ""); say(f, ""); });
      byId("kiosk-ticket").innerHTML = "";
      byId("kiosk-rate").innerHTML = "";
      step("services");
      refresh();
    };
    // Someone who walks away mid-way leaves the kiosk on its start screen for the next customer.
    var touch = function () {
      clearTimeout(idleTimer);
      if (root.dataset.current && root.dataset.current !== "services") {
        idleTimer = setTimeout(reset, Number(root.dataset.idleSeconds) * 1000);
      }
    };

    root.addEventListener("click", function (evt) {
      touch();
      var service = evt.target.closest("[data-service-id]");
      if (service) {
        form.querySelector("input[name=service_id]").value = service.dataset.serviceId;
        form.querySelector("[data-chosen-letter]").textContent = service.dataset.servicePrefix;
        form.querySelector("[data-chosen-name]").textContent = service.dataset.serviceName;
        setDigits(form, "");
        say(form, "");
        step("phone");
        return;
      }
      var goto = evt.target.closest("[data-goto]");
      if (goto) {
        var target = root.querySelector('[data-step="' + goto.dataset.goto + '"] [data-keypad]');
        if (target) { setDigits(target, ""); say(target, ""); }
        step(goto.dataset.goto);
        return;
      }
      var key = evt.target.closest("[data-key]");
      if (key) {
        var f = key.closest("[data-keypad]");
        var p = pad(f);
        say(f, "");
        var k = key.dataset.key;
        if (k === "clear") setDigits(f, "");
        else if (k === "back") setDigits(f, p.value.value.slice(0, -1));
        else if (p.value.value.length < p.max) setDigits(f, p.value.value + k);
        return;
      }
      if (evt.target.closest("[data-no-phone]")) { setDigits(form, ""); return; }  // the form then submits
      if (evt.target.closest("[data-reset]")) { reset(); return; }
      var rated = evt.target.closest("[data-rate-ticket]");
      if (rated) {  // the chosen number's stars, the others' hidden
        root.querySelectorAll("[data-rate-ticket]").forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === rated));
        });
        root.querySelectorAll("[data-rate-stars]").forEach(function (s) {
          s.hidden = s.dataset.rateStars !== rated.dataset.rateTicket;
        });
        return;
      }
      var print = evt.target.closest("[data-print]");
      if (print) {
        var frame = byId("kiosk-print");
        frame.onload = function () {
          try { frame.contentWindow.focus(); frame.contentWindow.print(); } catch (e) { /* no printer */ }
        };
        frame.src = print.dataset.print;
      }
    });

    // digits that cannot be what the form asks for are not sent: the service would refuse them;
    // 【取号】 may go without a phone number, 【签到取号】 may not go without a code
    root.addEventListener("htmx:beforeRequest", function (evt) {
      var f = evt.detail.elt;
      if (!f.matches || !f.matches("[data-keypad]")) return;
      var p = pad(f);
      if ((f === form && !p.value.value) || p.pattern.test(p.value.value)) return;
      evt.preventDefault();
      say(f, f.dataset.patternError, true);
    });

    body.addEventListener("htmx:afterSwap", function (evt) {
      var id = evt.detail.target.id;
      if (id === "kiosk-ticket") step("ticket");
      else if (id === "kiosk-rate") step("rate");
      else return;
      countDown();
    });

    kiosk.failed = function (elt, xhr) {
      var text = xhr && xhr.responseText && xhr.responseText.length < 300 ? xhr.responseText : "网络连接失败，请稍后重试";
      var rating = elt && elt.closest && elt.closest(".q-kiosk-rate");
      if (rating) { rating.querySelector("[data-rate-error]").textContent = text; return; }
      if (!elt || !elt.matches || !elt.matches("[data-keypad]")) return;
      var code = xhr && xhr.getResponseHeader("X-Error-Code");
      say(elt, text, code === "invalid_phone" || code === "invalid_field" || code === "not_found");
      refresh();  // a paused service disappears from the start screen
    };
  }
})();
