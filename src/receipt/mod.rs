//! ESC/POS receipts with a QR code.
