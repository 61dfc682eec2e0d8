//! Receipt → ESC/POS bytes, with the `escpos` crate. Text is GBK-encoded (the code page of
//! Chinese thermal printers); the QR code is the printer's native `GS ( k` symbol, so the
//! printer draws it at full resolution.

use super::record::ReceiptRecord;
use crate::units::Fen;
use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{
    Encoder, JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption,
};
use std::cell::RefCell;

/// Collects the bytes the printer would receive, so rendering is pure and I/O is separate.
#[derive(Default)]
struct Capture {
    bytes: RefCell<Vec<u8>>,
}

impl Driver for Capture {
    fn name(&self) -> String {
        "capture".to_string()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.bytes.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// Errors while building the bytes (only possible with absurdly long fields).
#[derive(Debug, thiserror::Error)]
#[error("cannot render receipt {receipt}: {why}")]
pub struct RenderError {
    pub receipt: String,
    pub why: String,
}

/// The ESC/POS bytes of `r`, with `verify_url` in the QR code.
pub fn render(r: &ReceiptRecord, verify_url: &str) -> Result<Vec<u8>, RenderError> {
    let err = |e: escpos::errors::PrinterError| RenderError {
        receipt: r.receipt_no.clone(),
        why: e.to_string(),
    };
    let protocol = Protocol::new(Encoder::new(encoding_rs::GBK));
    // No page code: every character goes through the GBK encoder.
    let mut p = Printer::new(Capture::default(), protocol, None);
    p.init().map_err(err)?;
    // FS & selects Chinese (double-byte GBK) character mode on Chinese thermal printers.
    p.custom(&[0x1c, b'&']).map_err(err)?;
    p.justify(JustifyMode::CENTER).map_err(err)?;
    p.bold(true).map_err(err)?;
    p.size(2, 2).map_err(err)?;
    p.writeln(&r.site_name).map_err(err)?;
    p.reset_size().map_err(err)?;
    p.writeln("购电凭证 Electricity receipt").map_err(err)?;
    p.bold(false).map_err(err)?;
    p.justify(JustifyMode::LEFT).map_err(err)?;
    p.writeln("--------------------------------").map_err(err)?;
    let lines = [
        format!("单号 No.:      {}", r.receipt_no),
        format!("时间 Time:     {}", r.local_time),
        format!("租户 Tenant:   {} {}", r.tenant, r.tenant_name),
        format!("户号 Unit:     {}", r.units.join(", ")),
        format!("电表 Meter:    {}", r.meters.join(", ")),
        format!("方式 Method:   {}", r.method),
        format!("购电次数 No.:  {}", r.purchase_count),
        format!("经办 By:       {}", r.issued_by),
    ];
    for l in &lines {
        p.writeln(l).map_err(err)?;
    }
    p.writeln("--------------------------------").map_err(err)?;
    p.bold(true).map_err(err)?;
    p.writeln(&format!("金额 Amount:   {} 元", Fen(r.amount_fen)))
        .map_err(err)?;
    p.bold(false).map_err(err)?;
    p.writeln(&format!("余额 Balance:  {} 元", Fen(r.balance_after_fen)))
        .map_err(err)?;
    p.writeln("--------------------------------").map_err(err)?;
    p.justify(JustifyMode::CENTER).map_err(err)?;
    p.qrcode_option(
        verify_url,
        QRCodeOption::new(QRCodeModel::Model2, 5, QRCodeCorrectionLevel::M),
    )
    .map_err(err)?;
    p.writeln("扫码验真 Scan to verify").map_err(err)?;
    p.feeds(3).map_err(err)?;
    p.print_cut().map_err(err)?;
    Ok(p.driver().bytes.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::{PrintStatus, decode};

    pub(crate) fn sample() -> ReceiptRecord {
        ReceiptRecord {
            receipt_no: "R00000042".into(),
            site_name: "星河广场".into(),
            issued_at: "2026-11-25T00:30:00Z".into(),
            local_time: "2026-11-25 08:30:00".into(),
            tenant: "T0001".into(),
            tenant_name: "小王面馆".into(),
            units: vec!["A-101".into()],
            meters: vec!["000000000101".into()],
            amount_fen: 10000,
            balance_after_fen: 12345,
            purchase_count: 7,
            issued_by: "kiosk".into(),
            method: "sandbox".into(),
            op: 42,
            sig: "00".into(),
            print: PrintStatus::Pending,
            prints: 0,
        }
    }

    #[test]
    fn rendered_receipt_reads_back_with_every_field_and_the_qr() {
        let url = "http://127.0.0.1:8080/r/R00000042?sig=abcd";
        let bytes = render(&sample(), url).unwrap();
        // Starts with ESC @ (initialise) and ends with a full cut GS V A 0 (Epson GS V).
        assert_eq!(&bytes[..2], &[0x1b, b'@']);
        assert_eq!(&bytes[bytes.len() - 4..], &[0x1d, b'V', b'A', 0]);
        let d = decode(&bytes).unwrap();
        let text = d.preview();
        for want in [
            "星河广场",
            "R00000042",
            "2026-11-25 08:30:00",
            "T0001 小王面馆",
            "A-101",
            "000000000101",
            "100.00 元",
            "123.45 元",
            "购电次数 No.:  7",
            "kiosk",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert_eq!(d.qr, vec![url.to_string()]);
        assert_eq!(d.cuts, 1);
    }
}
