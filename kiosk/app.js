// voltvend kiosk and phone site. Plain JS, no build step, nothing fetched from outside the
// appliance. Talks to the tenant API under /api/v1/tenant (see docs/api.md).
(function () {
  'use strict';

  var T = {
    'zh-CN': {
      langSwitch: 'English', logout: '退出', welcome: '欢迎使用自助电费服务', loginLead: '请输入户号和密码',
      unit: '户号', pin: '密码', login: '登录', balance: '当前余额', topUp: '充值', meters: '电表',
      usage: '每日用电', d30: '30天', d90: '90天', history: '购电记录', amount: '金额', back: '返回',
      pay: '去支付', scanToPay: '扫码支付', scanHint: '请使用手机扫描二维码完成支付', openHere: '在本机打开支付页面',
      waiting: '等待支付…', cancel: '取消', balanceAfter: '充值后余额', receiptNo: '凭条号', reprint: '补打凭条',
      done: '完成', confirm: '确定', clear: '清除', del: '删除',
      st_normal: '正常', st_alarm1: '余额偏低', st_alarm2: '余额不足', st_arrears: '已欠费', st_tripped: '已断电',
      hint_normal: '用电正常。', hint_alarm1: '余额低于 ¥{a1}，请及时充值。', hint_alarm2: '余额低于 ¥{a2}，即将断电，请尽快充值。',
      hint_arrears: '已欠费 ¥{owed}，电表已断电或即将断电。充值后自动恢复供电。', hint_tripped: '电表处于断电状态。充值或联系管理处恢复供电。',
      hint_empty: '余额已用完（¥0.00），电表已断电或即将断电。充值后自动恢复供电。',
      power: '功率', relayOn: '供电中', relayOff: '已断开', relayUnknown: '状态未知', offline: '离线',
      switchOff: '远程断电', switchOn: '恢复供电', confirmOff: '确定要断开电表 {m} 的电源吗？店内所有用电将停止。',
      confirmOn: '确定要恢复电表 {m} 的供电吗？', switchQueued: '指令已发送，电表将在几秒内执行。',
      noUsage: '暂无用电数据', noPurchases: '暂无购电记录', kwh: '度',
      capNote: '为防止囤积电费，账户余额上限为 ¥{cap}。您当前余额 ¥{bal}，本次最多可充 ¥{max}。',
      capFull: '您的余额已达上限 ¥{cap}，暂时无需充值。',
      badAmount: '请输入有效金额（最多两位小数）。', overMax: '本次最多可充 ¥{max}（余额上限 ¥{cap}）。',
      paidTitle: '充值成功', declinedTitle: '支付未完成', declinedText: '支付已被拒绝或取消，未扣款。',
      printed: '凭条已打印，请取走。', printPending: '正在打印凭条…', printFailed: '凭条未能打印：{why}。充值已成功，可稍后补打或联系管理处。',
      noPrinter: '本机未连接打印机，可凭凭条号查询。', reprintSent: '已发送补打。',
      lockedOut: '密码错误次数过多，请于 {until} 后再试，或联系管理处。', wrongPin: '户号或密码错误，还可尝试 {left} 次。',
      network: '网络连接中断，请稍后重试。', sessionOver: '长时间未操作，已自动退出。',
      hello: '您好，{name}', units: '户号 {units}', method_sandbox: '扫码支付', method_cash: '现金'
    },
    en: {
      langSwitch: '中文', logout: 'Log out', welcome: 'Electricity self-service', loginLead: 'Enter your unit number and PIN',
      unit: 'Unit number', pin: 'PIN', login: 'Log in', balance: 'Balance', topUp: 'Top up', meters: 'Meters',
      usage: 'Daily usage', d30: '30 days', d90: '90 days', history: 'Purchases', amount: 'Amount', back: 'Back',
      pay: 'Pay', scanToPay: 'Scan to pay', scanHint: 'Scan the QR code with your phone to pay', openHere: 'Open the payment page here',
      waiting: 'Waiting for payment…', cancel: 'Cancel', balanceAfter: 'Balance after', receiptNo: 'Receipt no.', reprint: 'Reprint receipt',
      done: 'Done', confirm: 'OK', clear: 'Clear', del: 'Delete',
      st_normal: 'Normal', st_alarm1: 'Low balance', st_alarm2: 'Very low balance', st_arrears: 'In arrears', st_tripped: 'Power off',
      hint_normal: 'Everything is fine.', hint_alarm1: 'Balance below ¥{a1}. Please top up soon.', hint_alarm2: 'Balance below ¥{a2}. Power will be cut soon: please top up now.',
      hint_arrears: 'You owe ¥{owed}. Power is cut or about to be. Topping up restores it automatically.', hint_tripped: 'The meter is switched off. Top up or ask the management office.',
      hint_empty: 'Your balance is used up (¥0.00). Power is cut or about to be. Topping up restores it automatically.',
      power: 'Power', relayOn: 'Power on', relayOff: 'Switched off', relayUnknown: 'Unknown', offline: 'offline',
      switchOff: 'Switch off', switchOn: 'Switch on', confirmOff: 'Switch off meter {m}? Everything on it will lose power.',
      confirmOn: 'Switch meter {m} back on?', switchQueued: 'Command sent; the meter will act within seconds.',
      noUsage: 'No usage data yet', noPurchases: 'No purchases yet', kwh: 'kWh',
      capNote: 'To prevent hoarding, a balance may not exceed ¥{cap}. Your balance is ¥{bal}, so you can top up at most ¥{max} now.',
      capFull: 'Your balance has reached the cap of ¥{cap}; no top-up is needed now.',
      badAmount: 'Enter a valid amount (at most two decimals).', overMax: 'At most ¥{max} now (balance cap ¥{cap}).',
      paidTitle: 'Top-up complete', declinedTitle: 'Payment not completed', declinedText: 'The payment was declined or cancelled. Nothing was charged.',
      printed: 'Your receipt has been printed.', printPending: 'Printing your receipt…', printFailed: 'The receipt could not be printed: {why}. Your top-up is safe; reprint later or ask the office.',
      noPrinter: 'No printer here; keep the receipt number.', reprintSent: 'Reprint sent.',
      lockedOut: 'Too many wrong PINs. Try again after {until} or ask the management office.', wrongPin: 'Wrong unit number or PIN. {left} tries left.',
      network: 'Connection lost. Please try again.', sessionOver: 'Logged out after inactivity.',
      hello: 'Hello, {name}', units: 'Unit {units}', method_sandbox: 'QR payment', method_cash: 'Cash'
    }
  };

  var params = new URLSearchParams(location.search);
  var lang = params.get('lang') === 'en' ? 'en' : 'zh-CN';
  var IDLE_MS = Number(params.get('idle')) > 0 ? Number(params.get('idle')) * 1000 : 90000;
  var state = { token: null, me: null, days: 30, order: null, poll: null, refresh: null, receipt: null };
  var $ = function (id) { return document.getElementById(id); };

  function t(key, vars) {
    var s = (T[lang] && T[lang][key]) || T['zh-CN'][key] || key;
    if (vars) Object.keys(vars).forEach(function (k) { s = s.split('{' + k + '}').join(vars[k]); });
    return s;
  }
  // Money arrives as integer fen; format without floating point.
  function yuan(fen) {
    var neg = fen < 0, a = Math.abs(fen);
    return (neg ? '-' : '') + Math.floor(a / 100).toLocaleString('en-US') + '.' + String(a % 100).padStart(2, '0');
  }
  // "12.3" -> 1230 fen; null when not a valid amount.
  function parseFen(text) {
    var m = /^\s*(\d{1,7})(?:\.(\d{0,2}))?\s*$/.exec(text);
    if (!m) return null;
    return Number(m[1]) * 100 + Number(((m[2] || '') + '00').slice(0, 2));
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function applyLang() {
    document.documentElement.lang = lang;
    document.title = lang === 'en' ? 'Electricity self-service' : '电费自助缴费';
    document.querySelectorAll('[data-t]').forEach(function (e) { e.textContent = t(e.getAttribute('data-t')); });
    document.querySelectorAll('.keypad').forEach(buildPad);
    if (state.me) renderHome();
    if (!$('s-amount').hidden) renderAmount();
  }

  // ---- API ----
  function api(method, path, body) {
    var h = { 'Accept': 'application/json' };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (state.token) h['Authorization'] = 'Bearer ' + state.token;
    return fetch('/api/v1' + path, { method: method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.text().then(function (txt) {
          var data = null;
          try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = { code: 'bad_response', message: txt }; }
          if (r.status === 401 && state.token && path !== '/tenant/login') { logout(t('sessionOver')); }
          if (!r.ok) { var err = new Error((data && data.message) || r.statusText); err.status = r.status; err.data = data || {}; throw err; }
          return data;
        });
      }, function () { var err = new Error(t('network')); err.status = 0; err.data = {}; throw err; });
  }

  // ---- screens ----
  function show(id) {
    ['s-login', 's-home', 's-amount', 's-pay', 's-done'].forEach(function (s) { $(s).hidden = s !== id; });
    $('logout').hidden = id === 's-login';
    window.scrollTo(0, 0);
  }
  function toast(msg) {
    var e = $('toast'); e.textContent = msg; e.hidden = false;
    clearTimeout(toast.t); toast.t = setTimeout(function () { e.hidden = true; }, 4000);
  }
  function ask(text) {
    return new Promise(function (res) {
      $('confirm-text').textContent = text; $('confirm').hidden = false;
      $('confirm-yes').onclick = function () { $('confirm').hidden = true; res(true); };
      $('confirm-no').onclick = function () { $('confirm').hidden = true; res(false); };
    });
  }

  // ---- keypads: one builder for login (with building letters) and amount (with a dot) ----
  var focused = null;
  function buildPad(pad) {
    pad.innerHTML = '';
    var keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', pad.dataset.dot ? '.' : '-', '0', '⌫'];
    if (pad.dataset.letters) {
      var row = el('div', 'letters');
      (state.buildings || ['A', 'B']).forEach(function (b) { row.appendChild(key(b, b)); });
      row.appendChild(key('C', t('clear'), 'clear'));
      pad.appendChild(row);
    }
    keys.forEach(function (k) { pad.appendChild(key(k, k, k === '⌫' ? 'del' : null)); });
    function key(val, label, kind) {
      var b = el('button', null, label); b.type = 'button';
      b.dataset.key = kind || val;
      b.setAttribute('aria-label', kind === 'del' ? t('del') : kind === 'clear' ? t('clear') : label);
      b.addEventListener('click', function () {
        var target = focused && pad.parentNode.contains(focused) ? focused : pad.parentNode.querySelector('input');
        if (!target) return;
        if (kind === 'del') target.value = target.value.slice(0, -1);
        else if (kind === 'clear') target.value = '';
        else if (!target.maxLength || target.maxLength < 0 || target.value.length < target.maxLength) target.value += val;
        target.dispatchEvent(new Event('input'));
      });
      return b;
    }
  }
  document.addEventListener('focusin', function (e) { if (e.target.tagName === 'INPUT') focused = e.target; });

  // ---- login ----
  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var unit = $('unit').value.trim().toUpperCase(), pin = $('pin').value;
    $('login-error').hidden = true;
    if (!unit || !pin) { focused = unit ? $('pin') : $('unit'); focused.focus(); return; }
    $('login-btn').disabled = true;
    api('POST', '/tenant/login', { unit: unit, pin: pin }).then(function (r) {
      state.token = r.token;
      $('pin').value = '';
      return loadHome();
    }).catch(function (err) {
      var d = err.data || {};
      var msg = d.code === 'locked' ? t('lockedOut', { until: localTime(d.until) })
        : d.code === 'bad_credentials' ? t('wrongPin', { left: d.attempts_left != null ? d.attempts_left : '?' })
        : err.message;
      $('login-error').textContent = msg; $('login-error').hidden = false;
      $('pin').value = '';
    }).then(function () { $('login-btn').disabled = false; });
  });
  $('unit').addEventListener('input', function () { this.value = this.value.toUpperCase(); });
  function localTime(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  }

  function logout(msg) {
    if (state.token) api('POST', '/tenant/logout').catch(function () {});
    state.token = null; state.me = null; state.order = null;
    clearInterval(state.poll); clearInterval(state.refresh);
    $('unit').value = ''; $('pin').value = ''; $('amount').value = '';
    $('login-error').hidden = true;
    show('s-login');
    if (msg) toast(msg);
  }
  $('logout').addEventListener('click', function () { logout(); });

  // ---- home ----
  function loadHome() {
    return api('GET', '/tenant/me').then(function (me) {
      state.me = me;
      renderHome();
      if ($('s-home').hidden) show('s-home');
      loadUsage(); loadPurchases();
      clearInterval(state.refresh);
      state.refresh = setInterval(function () {
        if (!$('s-home').hidden) api('GET', '/tenant/me').then(function (m) { state.me = m; renderHome(); }).catch(function () {});
      }, 5000);
    });
  }
  function renderHome() {
    var me = state.me;
    $('who').innerHTML = '';
    $('who').appendChild(document.createTextNode(t('hello', { name: '' })));
    $('who').appendChild(el('b', null, me.name));
    $('who').appendChild(document.createTextNode(' · ' + t('units', { units: me.units.join(', ') })));
    $('balance').textContent = yuan(me.balance_fen);
    var st = me.status;
    $('balance-card').className = 'card balance st-' + st;
    $('status-text').textContent = t('st_' + st);
    // Zero is arrears (the server's status), but there is no debt to name.
    var hint = st === 'arrears' && me.balance_fen === 0 ? 'hint_empty' : 'hint_' + st;
    $('status-hint').textContent = t(hint, { a1: yuan(me.alarm1_fen), a2: yuan(me.alarm2_fen), owed: yuan(-me.balance_fen) });
    $('topup-btn').disabled = me.max_topup_fen <= 0;
    var box = $('meters'); box.innerHTML = '';
    me.meters.forEach(function (m) {
      var c = el('div', 'card meter');
      var head = el('div', 'meter-head');
      head.appendChild(el('span', 'meter-id', m.meter));
      head.appendChild(el('span', 'meter-unit', (m.unit || '') + (m.online === false ? ' · ' + t('offline') : '')));
      c.appendChild(head);
      var p = el('div', 'power', m.power_w == null ? '—' : String(m.power_w));
      p.appendChild(el('small', null, ' W'));
      p.setAttribute('aria-label', t('power'));
      c.appendChild(p);
      var rs = m.relay === 'closed' ? ['on', '● ' + t('relayOn')] : m.relay === 'open' ? ['off', '○ ' + t('relayOff')] : ['unknown', '? ' + t('relayUnknown')];
      c.appendChild(el('div', 'relay ' + rs[0], rs[1]));
      var wantOn = m.relay === 'open';
      var b = el('button', 'btn ' + (wantOn ? 'primary' : 'danger'), wantOn ? t('switchOn') : t('switchOff'));
      b.type = 'button';
      if (m.switch_refused) {
        b.disabled = true;
        c.appendChild(b);
        c.appendChild(el('p', 'why', lang === 'en' ? m.switch_refused.message_en : m.switch_refused.message));
      } else {
        b.addEventListener('click', function () { remoteSwitch(m, wantOn); });
        c.appendChild(b);
      }
      box.appendChild(c);
    });
  }
  function remoteSwitch(m, on) {
    ask(t(on ? 'confirmOn' : 'confirmOff', { m: m.meter })).then(function (yes) {
      if (!yes) return;
      api('POST', '/tenant/meters/' + encodeURIComponent(m.meter) + '/switch', { on: on })
        .then(function () { toast(t('switchQueued')); loadHome(); })
        .catch(function (err) { toast(lang === 'en' && err.data.message_en ? err.data.message_en : err.message); });
    });
  }

  function loadUsage() {
    api('GET', '/tenant/usage?days=' + state.days).then(drawChart).catch(function () {});
  }
  document.querySelectorAll('[data-days]').forEach(function (b) {
    b.addEventListener('click', function () {
      state.days = Number(b.dataset.days);
      document.querySelectorAll('[data-days]').forEach(function (x) { x.classList.toggle('on', x === b); });
      loadUsage();
    });
  });
  // Daily usage bars, drawn as SVG by hand (no chart library).
  function drawChart(u) {
    var box = $('chart'); box.innerHTML = '';
    var days = u.days || [];
    $('usage-range').textContent = days.length ? days[0].date + ' – ' + days[days.length - 1].date : '';
    if (!days.length || days.every(function (d) { return !d.wh; })) { box.appendChild(el('div', 'empty', t('noUsage'))); return; }
    // Width follows the card so labels keep their size on a phone.
    var W = Math.max(300, Math.round(box.clientWidth || 640)), H = 220, L = 40, B = 24, top = 22, n = days.length;
    var max = Math.max.apply(null, days.map(function (d) { return d.wh; }));
    var step = niceStep(max / 1000 / 4), lines = Math.max(1, Math.ceil(max / 1000 / step)), ymax = step * lines * 1000;
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('role', 'img');
    var total = days.reduce(function (s, d) { return s + d.wh; }, 0);
    svg.setAttribute('aria-label', t('usage') + ': ' + (total / 1000).toFixed(1) + ' ' + t('kwh'));
    function add(tag, attrs, text) {
      var e = document.createElementNS(ns, tag);
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
      if (text != null) e.textContent = text;
      svg.appendChild(e); return e;
    }
    for (var g = 0; g <= lines; g++) {
      var y = top + (H - B - top) * (1 - g / lines);
      add('line', { x1: L, x2: W, y1: y, y2: y, 'class': 'grid' });
      add('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, fmtKwh(step * g));
    }
    var bw = (W - L) / n;
    var every = n > 45 ? (W < 500 ? 30 : 15) : (W < 500 ? 10 : 7);
    days.forEach(function (d, i) {
      var h = ymax ? (H - B - top) * d.wh / ymax : 0;
      var r = add('rect', { x: L + i * bw + bw * 0.15, y: H - B - h, width: Math.max(bw * 0.7, 1), height: Math.max(h, 0), rx: Math.min(3, bw * 0.2), 'class': 'bar-rect' + (i === n - 1 ? ' last' : '') });
      var tt = document.createElementNS(ns, 'title'); tt.textContent = d.date + ': ' + (d.wh / 1000).toFixed(2) + ' ' + t('kwh'); r.appendChild(tt);
      if ((n - 1 - i) % every === 0) add('text', { x: i === n - 1 ? W - 2 : L + i * bw + bw / 2, y: H - 6, 'text-anchor': i === n - 1 ? 'end' : 'middle' }, d.date.slice(5));
    });
    add('text', { x: L - 6, y: 12, 'text-anchor': 'end' }, t('kwh'));
    box.appendChild(svg);
  }
  function niceStep(x) {
    if (!(x > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(x))), f = x / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }
  function fmtKwh(v) { return v >= 10 ? String(Math.round(v)) : String(Math.round(v * 10) / 10); }

  function loadPurchases() {
    api('GET', '/tenant/purchases').then(function (list) {
      var ul = $('purchases'); ul.innerHTML = '';
      if (!list.length) { ul.appendChild(el('li', 'empty', t('noPurchases'))); return; }
      list.slice(0, 10).forEach(function (p) {
        var li = el('li');
        var left = el('div');
        left.appendChild(el('div', null, new Date(p.at).toLocaleString(lang, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })));
        left.appendChild(el('div', 'sub', (T[lang]['method_' + p.method] || p.method) + (p.receipt_no ? ' · ' + p.receipt_no : '')));
        li.appendChild(left);
        li.appendChild(el('div', 'amt', '¥' + yuan(p.amount_fen)));
        ul.appendChild(li);
      });
    }).catch(function () {});
  }

  // ---- top-up ----
  var PRESETS = [5000, 10000, 20000, 50000];
  $('topup-btn').addEventListener('click', function () { $('amount').value = ''; $('amount-error').hidden = true; renderAmount(); show('s-amount'); });
  $('amount-back').addEventListener('click', function () { show('s-home'); });
  function renderAmount() {
    var me = state.me;
    var note = $('cap-note');
    if (me.max_topup_fen <= 0) { note.textContent = t('capFull', { cap: yuan(me.hoarding_cap_fen) }); note.className = 'note warn'; }
    else { note.textContent = t('capNote', { cap: yuan(me.hoarding_cap_fen), bal: yuan(me.balance_fen), max: yuan(me.max_topup_fen) }); note.className = 'note'; }
    var box = $('presets'); box.innerHTML = '';
    PRESETS.forEach(function (f) {
      var b = el('button', null, '¥' + (f / 100)); b.type = 'button';
      b.disabled = f > me.max_topup_fen;
      b.classList.toggle('on', parseFen($('amount').value) === f);
      b.addEventListener('click', function () { $('amount').value = String(f / 100); $('amount').dispatchEvent(new Event('input')); });
      box.appendChild(b);
    });
    $('amount-go').disabled = me.max_topup_fen <= 0;
  }
  $('amount').addEventListener('input', function () {
    var f = parseFen(this.value);
    document.querySelectorAll('#presets button').forEach(function (b, i) { b.classList.toggle('on', PRESETS[i] === f); });
    $('amount-error').hidden = true;
  });
  $('amount-go').addEventListener('click', function () {
    var me = state.me, f = parseFen($('amount').value);
    var errBox = $('amount-error');
    if (f == null || f <= 0) { errBox.textContent = t('badAmount'); errBox.hidden = false; return; }
    if (f > me.max_topup_fen) { errBox.textContent = t('overMax', { max: yuan(me.max_topup_fen), cap: yuan(me.hoarding_cap_fen) }); errBox.hidden = false; return; }
    $('amount-go').disabled = true;
    var key = 'kiosk-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
    api('POST', '/tenant/topups', { amount_fen: f, idempotency_key: key }).then(function (o) {
      state.order = o;
      $('pay-amount').textContent = yuan(o.amount_fen);
      $('qr').innerHTML = o.qr_svg;
      $('qr').setAttribute('aria-label', t('scanToPay'));
      $('pay-link').href = o.pay_url + (o.pay_url.indexOf('?') < 0 ? '?' : '&') + 'lang=' + lang;
      $('pay-state').textContent = t('waiting'); $('pay-state').className = 'waiting';
      show('s-pay');
      clearInterval(state.poll);
      state.poll = setInterval(pollOrder, 1200);
    }).catch(function (err) { errBox.textContent = err.message; errBox.hidden = false; })
      .then(function () { $('amount-go').disabled = false; });
  });
  // The sandbox page may be opened here in a small window; it closes itself after deciding.
  $('pay-link').addEventListener('click', function (e) {
    e.preventDefault();
    var w = window.open(this.href, 'pay', 'width=420,height=640');
    if (!w) location.href = this.href;
  });
  $('pay-cancel').addEventListener('click', function () { clearInterval(state.poll); state.order = null; show('s-home'); });
  function pollOrder() {
    if (!state.order) return;
    api('GET', '/tenant/topups/' + encodeURIComponent(state.order.order_id)).then(function (o) {
      if (o.state === 'waiting') return;
      clearInterval(state.poll);
      state.order = o;
      showDone(o);
    }).catch(function () {});
  }
  function showDone(o) {
    var ok = o.state === 'paid';
    $('done-icon').textContent = ok ? '✓' : '✕';
    $('done-icon').className = 'done-icon' + (ok ? '' : ' bad');
    $('done-title').textContent = ok ? t('paidTitle') : t('declinedTitle');
    $('done-amount').textContent = '¥' + yuan(o.amount_fen);
    $('done-balance').textContent = o.balance_after_fen != null ? '¥' + yuan(o.balance_after_fen) : '—';
    $('done-receipt').textContent = o.receipt_no || '—';
    document.querySelectorAll('#s-done .facts dt, #s-done .facts dd').forEach(function (e, i) { e.hidden = !ok && i >= 2; });
    $('reprint').hidden = !ok;
    renderPrint(o);
    show('s-done');
    if (ok) {
      state.receipt = o.receipt_no;
      // Follow the printer for a few seconds: the sale is done, the paper may still come.
      var tries = 0;
      var iv = setInterval(function () {
        if (++tries > 8 || $('s-done').hidden) { clearInterval(iv); return; }
        api('GET', '/tenant/topups/' + encodeURIComponent(o.order_id)).then(function (x) { renderPrint(x); if (x.print && x.print.state !== 'pending') clearInterval(iv); }).catch(function () {});
      }, 1000);
    }
  }
  function renderPrint(o) {
    var p = $('done-print');
    if (o.state !== 'paid') { p.textContent = t('declinedText'); p.className = 'note bad'; return; }
    var s = o.print || { state: 'pending' };
    if (s.state === 'printed') { p.textContent = t('printed'); p.className = 'note'; }
    else if (s.state === 'failed') {
      p.textContent = /configured/.test(s.reason) ? t('noPrinter') : t('printFailed', { why: s.reason });
      p.className = 'note warn';
    } else { p.textContent = t('printPending'); p.className = 'note'; }
  }
  $('reprint').addEventListener('click', function () {
    if (!state.receipt) return;
    api('POST', '/tenant/receipts/' + encodeURIComponent(state.receipt) + '/print').then(function (r) {
      renderPrint({ state: 'paid', print: r.print });
      toast(t('reprintSent'));
    }).catch(function (err) { toast(err.message); });
  });
  $('done-ok').addEventListener('click', function () { loadHome().catch(function () {}); show('s-home'); });

  // ---- language ----
  $('lang').addEventListener('click', function () {
    lang = lang === 'en' ? 'zh-CN' : 'en';
    var q = new URLSearchParams(location.search); q.set('lang', lang === 'en' ? 'en' : 'zh');
    history.replaceState(null, '', location.pathname + '?' + q.toString());
    applyLang();
  });

  // ---- idle timeout: back to the start screen ----
  var lastInput = Date.now();
  ['pointerdown', 'keydown', 'input', 'touchstart'].forEach(function (ev) {
    document.addEventListener(ev, function () { lastInput = Date.now(); }, { passive: true });
  });
  setInterval(function () {
    var limit = $('s-pay').hidden ? IDLE_MS : IDLE_MS * 3;
    if (Date.now() - lastInput > limit && $('s-login').hidden) logout(t('sessionOver'));
  }, 1000);

  // ---- start ----
  fetch('/api/v1/kiosk/info').then(function (r) { return r.json(); }).then(function (info) {
    if (info.site_name) $('site-name').textContent = info.site_name;
    if (info.buildings && info.buildings.length) state.buildings = info.buildings.slice(0, 4);
    applyLang();
  }).catch(function () { applyLang(); });
  applyLang();
  show('s-login');
})();
