//! `voltvend sim --modem DIR`: the real binary runs a simulated GSM modem on a pty beside
//! its meters; our real modem driver sends a long Chinese SMS through it (concatenated
//! parts) and the message lands in DIR exactly.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use voltvend::alarm::sms::modem::Modem;

use crate::support::bin::{KillOnDrop, voltvend};
use crate::support::wait::until;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_binary_runs_a_modem_that_delivers_to_a_folder() {
    let dir = tempfile::tempdir().expect("tmp");
    let sms_dir = dir.path().join("sms");
    let mut child = voltvend()
        .args(["sim", "--meters", "1", "--pty", "--modem"])
        .arg(&sms_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn voltvend sim");
    let out = child.stdout.take().expect("stdout");
    let _sim = KillOnDrop(child);
    let mut reader = BufReader::new(out);
    let mut lines = Vec::new();
    let modem_line = loop {
        let mut l = String::new();
        if reader.read_line(&mut l).expect("read") == 0 {
            panic!("voltvend sim exited early: {lines:?}");
        }
        if l.starts_with("modem: ") {
            break l.trim().to_string();
        }
        assert!(
            !l.starts_with("bus "),
            "no modem line before the buses: {lines:?}"
        );
        lines.push(l);
    };
    let pty = modem_line
        .split_whitespace()
        .nth(2)
        .expect("pty path")
        .to_string();
    let port =
        tokio_serial::SerialStream::open(&tokio_serial::new(&pty, 115_200)).expect("open pty");
    let mut modem = Modem::new(port, Duration::from_secs(5), Some("+8613800100500".into()));
    modem.init().await.expect("AT dialogue");
    let text =
        "【星河广场】尊敬的用户，您的电费余额为 80.00 元，已低于报警值 100.00 元，请及时充值。"
            .repeat(2);
    let parts = modem.send_text("13800138000", &text).await.expect("send");
    assert!(parts > 1, "a long UCS-2 text goes in parts");
    let file = sms_dir.join("sms-0001.txt");
    until(&file.display().to_string(), 5, || file.exists()).await;
    let got = std::fs::read_to_string(&file).expect("sms file");
    assert_eq!(got, format!("to: 13800138000\n\n{text}\n"));
}
