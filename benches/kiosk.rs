//! Kiosk first screen in headless Chromium: bytes transferred (goal < 100 KB) and time to
//! first paint (goal < 500 ms on loopback), over a fresh profile each run (cold cache).
//! Run: cargo bench --bench kiosk

#[path = "../tests/support/cdp.rs"]
mod cdp;
#[path = "../tests/support/http.rs"]
mod harness;

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let site = rt.block_on(harness::start_site());
    let url = site.url("/");
    let mut fcp = Vec::new();
    let mut bytes = 0.0;
    for _ in 0..5 {
        let mut b = cdp::Browser::launch();
        b.set_viewport(1280, 900, false);
        b.goto(&url);
        b.wait_for(
            "performance.getEntriesByType('paint').some(e => e.name === 'first-contentful-paint') && \
             document.getElementById('site-name').textContent !== 'voltvend'",
            std::time::Duration::from_secs(10),
        );
        let m = b.eval(
            "(() => { const nav = performance.getEntriesByType('navigation')[0]; \
              const res = performance.getEntriesByType('resource'); \
              const fp = performance.getEntriesByType('paint').find(e => e.name === 'first-paint'); \
              const fcp = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint'); \
              return { bytes: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0), \
                       files: 1 + res.length, fp: fp ? fp.startTime : null, fcp: fcp.startTime }; })()",
        );
        bytes = m["bytes"].as_f64().unwrap_or(0.0);
        fcp.push(m["fcp"].as_f64().unwrap_or(f64::NAN));
        println!("run: {m}");
    }
    fcp.sort_by(|a, b| a.total_cmp(b));
    println!(
        "kiosk first screen: {:.1} KB transferred, first contentful paint median {:.0} ms (min {:.0}, max {:.0}) over {} cold loads",
        bytes / 1024.0,
        fcp[fcp.len() / 2],
        fcp[0],
        fcp[fcp.len() - 1],
        fcp.len()
    );
}
