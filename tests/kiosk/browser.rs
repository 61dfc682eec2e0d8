//! The kiosk in headless Chromium, driven over the DevTools protocol with real mouse
//! events: log in on the on-screen keypad, wrong PIN, balance, top-up through the sandbox
//! to a printed receipt with the right QR payload, English labels, language switch, idle
//! timeout, and a 360 px phone layout with nothing cut off. Screenshots are saved under
//! target/tmp/kiosk-screenshots (and under docs/img when VOLTVEND_DOCS_IMG=1).

use std::path::PathBuf;
use std::time::Duration;

use crate::support::cdp::Browser;
use crate::support::http::*;

const WAIT: Duration = Duration::from_secs(20);

fn shot(b: &mut Browser, name: &str, full: bool) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kiosk-screenshots");
    b.screenshot(&dir.join(format!("{name}.png")), full);
    if std::env::var_os("VOLTVEND_DOCS_IMG").is_some() {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/img");
        b.screenshot(&docs.join(format!("{name}.png")), full);
    }
}

fn visible(id: &str) -> String {
    format!("!document.getElementById('{id}').hidden")
}

/// Types the unit and PIN on the on-screen keypad and presses the login button.
fn login_with_keypad(b: &mut Browser, unit: &str, pin: &str) {
    b.click("#unit");
    b.press_key("#login-pad", "clear");
    for c in unit.chars() {
        b.press_key("#login-pad", &c.to_string());
    }
    b.click("#pin");
    b.type_on_pad("#login-pad", pin);
    b.click("#login-btn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_login_top_up_and_printed_receipt() {
    let site = start_site().await;
    let url = site.url("/");
    let addr = site.addr;
    let receipts = site.receipts.clone();
    tokio::task::spawn_blocking(move || {
        let mut b = Browser::launch();
        b.set_viewport(1280, 900, false);
        b.goto(&url);
        b.wait_for(
            "document.getElementById('site-name').textContent.includes('Test Plaza')",
            WAIT,
        );
        assert_eq!(b.eval_str("document.documentElement.lang"), "zh-CN");
        assert_eq!(
            b.eval_str("document.querySelector('label[for=unit]').textContent"),
            "户号"
        );
        shot(&mut b, "kiosk-login", false);

        // Wrong PIN: a clear message with the tries left, still on the login screen.
        login_with_keypad(&mut b, "A-101", "9999");
        b.wait_for(&visible("login-error"), WAIT);
        let err = b.eval_str("document.getElementById('login-error').textContent");
        assert!(err.contains("还可尝试 4 次"), "{err}");
        assert_eq!(
            b.eval_str("document.getElementById('pin').value"),
            "",
            "PIN field cleared"
        );

        // Right PIN: the balance with its status colour, meters and the usage chart.
        b.click("#pin");
        b.type_on_pad("#login-pad", "1234");
        b.click("#login-btn");
        b.wait_for(&visible("s-home"), WAIT);
        assert_eq!(
            b.eval_str("document.getElementById('balance').textContent"),
            "186.50"
        );
        assert!(
            b.eval_str("document.getElementById('balance-card').className")
                .contains("st-normal")
        );
        assert_eq!(
            b.eval_str("document.getElementById('status-text').textContent"),
            "正常"
        );
        b.wait_for(
            "document.querySelectorAll('#chart svg rect.bar-rect').length === 30",
            WAIT,
        );
        b.wait_for(
            "document.querySelectorAll('#meters .meter').length === 2",
            WAIT,
        );
        shot(&mut b, "kiosk-home", true);

        // Top up: the cap is explained before paying; preset ¥100.
        b.click("#topup-btn");
        b.wait_for(&visible("s-amount"), WAIT);
        let note = b.eval_str("document.getElementById('cap-note').textContent");
        assert!(
            note.contains("3,000.00") && note.contains("2,813.50"),
            "{note}"
        );
        b.click("#presets button:nth-child(2)");
        assert_eq!(b.eval_str("document.getElementById('amount').value"), "100");
        shot(&mut b, "kiosk-amount", false);
        b.click("#amount-go");
        b.wait_for(&visible("s-pay"), WAIT);
        b.wait_for("document.querySelector('#qr svg') !== null", WAIT);
        shot(&mut b, "kiosk-pay", false);

        // The payer approves on the sandbox page (as a phone would, over HTTP).
        let pay_url = b.eval_str("document.getElementById('pay-link').href");
        let path = pay_url
            .split_once(&addr.to_string())
            .expect("pay url")
            .1
            .split('?')
            .next()
            .unwrap_or("")
            .to_string();
        let page = http(addr, "GET", &path, None, None);
        assert!(
            page.text().contains("确认支付 Approve") && page.text().contains("100.00"),
            "{}",
            page.text()
        );
        let r = http(addr, "POST", &format!("{path}/approve"), None, None);
        assert_eq!(r.status, 200, "{}", r.text());

        // Confirmation with the receipt number; the printer reports the paper came out.
        b.wait_for(&visible("s-done"), WAIT);
        assert_eq!(
            b.eval_str("document.getElementById('done-title').textContent"),
            "充值成功"
        );
        assert_eq!(
            b.eval_str("document.getElementById('done-balance').textContent"),
            "¥286.50"
        );
        let receipt = b.eval_str("document.getElementById('done-receipt').textContent");
        assert!(receipt.starts_with('R'), "{receipt}");
        b.wait_for(
            "document.getElementById('done-print').textContent.includes('凭条已打印')",
            WAIT,
        );
        shot(&mut b, "kiosk-done", false);

        // The printer sink holds that receipt, with the verification URL in its QR code.
        let bin = receipts.join(format!("{receipt}.bin"));
        let bytes = std::fs::read(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let d = voltvend::receipt::decode(&bytes).expect("decode");
        assert_eq!(d.qr.len(), 1);
        let want = format!("http://{addr}/r/{receipt}?sig=");
        assert!(d.qr[0].starts_with(&want), "{} vs {want}", d.qr[0]);
        let v = http(
            addr,
            "GET",
            d.qr[0].split_once(&addr.to_string()).unwrap().1,
            None,
            None,
        );
        assert!(v.text().contains("Genuine receipt"));
        let txt =
            std::fs::read_to_string(receipts.join(format!("{receipt}.txt"))).expect("preview");
        assert!(txt.contains("100.00 元"), "{txt}");

        // Done: back home with the new balance and the purchase listed.
        b.click("#done-ok");
        b.wait_for(
            "document.getElementById('balance').textContent === '286.50'",
            WAIT,
        );
        b.wait_for(
            &format!("document.getElementById('purchases').textContent.includes('{receipt}')"),
            WAIT,
        );
    })
    .await
    .expect("browser test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_in_english_on_a_360px_phone_with_nothing_cut_off() {
    let site = start_site().await;
    let url = site.url("/?lang=en&idle=4");
    tokio::task::spawn_blocking(move || {
        let mut b = Browser::launch();
        b.set_viewport(360, 740, true);
        b.goto(&url);
        b.wait_for("document.documentElement.lang === 'en'", WAIT);
        let label = |b: &mut Browser, id: &str| b.eval_str(&format!("document.querySelector('label[for={id}]').textContent"));
        assert_eq!(label(&mut b, "unit"), "Unit number");
        assert_eq!(label(&mut b, "pin"), "PIN");
        assert_eq!(label(&mut b, "amount"), "Amount");
        // Every input has a label or an aria-label.
        let unlabelled = b.eval("Array.from(document.querySelectorAll('input')).filter(i => !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).map(i => i.id)");
        assert_eq!(unlabelled, serde_json::json!([]));
        let overflow = "(() => { const w = document.documentElement.clientWidth; \
            const bad = Array.from(document.querySelectorAll('body *')).filter(e => { \
              const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && \
              getComputedStyle(e).visibility !== 'hidden' && (r.right > w + 0.5 || r.left < -0.5); }) \
              .map(e => e.tagName + '#' + e.id + '.' + e.className); \
            return {scroll: document.documentElement.scrollWidth, w, bad}; })()";
        let check = |b: &mut Browser, screen: &str| {
            let o = b.eval(overflow);
            assert_eq!(o["scroll"], o["w"], "{screen}: page wider than the phone: {o}");
            assert_eq!(o["bad"], serde_json::json!([]), "{screen}: elements cut off: {o}");
        };
        check(&mut b, "login");
        shot(&mut b, "phone-login", true);

        // Keypad taps on the phone too; then the home screen.
        login_with_keypad(&mut b, "A-103", "1234");
        b.wait_for(&visible("s-home"), WAIT);
        assert_eq!(b.eval_str("document.getElementById('status-text').textContent"), "Very low balance");
        assert!(b.eval_str("document.getElementById('balance-card').className").contains("st-alarm2"));
        b.wait_for("document.querySelectorAll('#chart svg rect.bar-rect').length === 30", WAIT);
        check(&mut b, "home");
        shot(&mut b, "phone-home", true);
        b.click("#topup-btn");
        b.wait_for(&visible("s-amount"), WAIT);
        assert!(b.eval_str("document.getElementById('cap-note').textContent").contains("To prevent hoarding"));
        check(&mut b, "amount");
        shot(&mut b, "phone-amount", true);

        // The language switch turns the labels to Chinese.
        b.click("#lang");
        b.wait_for("document.documentElement.lang === 'zh-CN'", WAIT);
        assert_eq!(label(&mut b, "amount"), "金额");

        // Left alone, the kiosk returns to the start screen (idle=4 s in this URL).
        b.wait_for(&visible("s-login"), Duration::from_secs(15));
        assert_eq!(b.eval_str("document.getElementById('unit').value"), "");
    })
    .await
    .expect("browser test");
}

/// The appliance's touch panels are landscape 1280x800 or 1024x768 (and 1920x1080): a tenant
/// logs in without scrolling, so the whole login form, button included, is on the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_form_fits_landscape_touch_panels_without_scrolling() {
    let site = start_site().await;
    let url = site.url("/");
    tokio::task::spawn_blocking(move || {
        let mut b = Browser::launch();
        for (w, h) in [(1280, 800), (1024, 768), (1920, 1080)] {
            b.set_viewport(w, h, false);
            b.goto(&url);
            b.wait_for(&visible("s-login"), WAIT);
            let bottom = b.eval(
                "Math.ceil(document.getElementById('login-btn').getBoundingClientRect().bottom)",
            );
            let bottom = bottom.as_f64().expect("a number");
            assert!(
                bottom <= h as f64,
                "at {w}x{h} the login button ends at y={bottom}, below the screen"
            );
            assert_eq!(b.eval("window.scrollY"), serde_json::json!(0));
            if (w, h) == (1280, 800) {
                shot(&mut b, "kiosk-login-1280x800", false);
            }
        }
    })
    .await
    .expect("browser test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_refuses_remote_switch_in_arrears_with_a_reason() {
    let site = start_site().await;
    let url = site.url("/?lang=en");
    tokio::task::spawn_blocking(move || {
        let mut b = Browser::launch();
        b.set_viewport(1024, 768, false);
        b.goto(&url);
        login_with_keypad(&mut b, "A-104", "1234");
        b.wait_for(&visible("s-home"), WAIT);
        assert_eq!(
            b.eval_str("document.getElementById('status-text').textContent"),
            "In arrears"
        );
        assert_eq!(
            b.eval_str("document.getElementById('balance').textContent"),
            "-25.00"
        );
        b.wait_for(
            "document.querySelector('#meters .meter .why') !== null",
            WAIT,
        );
        let why = b.eval_str("document.querySelector('#meters .meter .why').textContent");
        assert!(
            why.contains("arrears") && why.contains("Top up first"),
            "{why}"
        );
        assert_eq!(
            b.eval("document.querySelector('#meters .meter button').disabled"),
            serde_json::json!(true)
        );
        shot(&mut b, "kiosk-arrears", true);
    })
    .await
    .expect("browser test");
}
