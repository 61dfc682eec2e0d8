//! The key table: the input handler looks keys up here and the help overlay is drawn from
//! the same rows, so help cannot drift from behaviour.

use crossterm::event::KeyCode;

/// What a key does. Text fields receive the characters no row claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    GoDashboard,
    GoMeters,
    GoSales,
    GoReports,
    Run,
    ColumnsLeft,
    ColumnsRight,
    AckAlarm,
    ExportXlsx,
    ExportCsv,
    Refresh,
    Logout,
    ChangePassword,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    NextField,
    Submit,
    Backspace,
    StartFilter,
    CycleSort,
    ReverseSort,
    Lookup,
    Sell,
    Refund,
    Reverse,
    OpenAccount,
    CloseAccount,
    Command(&'static str),
    Confirm,
    Cancel,
    GoBatch,
    GoSite,
    GoStaff,
    GoSuspect,
    GoOffice,
    /// Charge the selected suspect reading.
    Accept,
    /// Never charge the selected suspect reading; the charged basis stays.
    Reject,
    /// Never charge it, and measure from it on (meter replaced or reset).
    Rebaseline,
    /// Mark / unmark the selected meter for a batch.
    Mark,
    ClearMarks,
    /// Batch over the marked rows (or the filtered view).
    BatchOnSelection,
    /// Edit the selected setting.
    Edit,
    Import,
    AddOperator,
    ResetPassword,
    ToggleDisabled,
    NextRole,
    AddMeter,
    NextPane,
}

pub struct Binding {
    pub keys: &'static [KeyCode],
    pub label: &'static str,
    pub help: &'static str,
    pub action: Action,
}

const fn b(
    keys: &'static [KeyCode],
    label: &'static str,
    help: &'static str,
    action: Action,
) -> Binding {
    Binding {
        keys,
        label,
        help,
        action,
    }
}

use KeyCode::*;

/// Where the keyboard is: decides which table applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Typing into a form field (login, password, filter, unit, amount, reason).
    Typing,
    Global,
    Meters,
    MeterDetail,
    Sales,
    Reports,
    Batch,
    Site,
    Staff,
    Suspect,
    Office,
    Confirm,
}

pub const TYPING: &[Binding] = &[
    b(&[Enter], "Enter", "submit / accept", Action::Submit),
    b(
        &[Tab, BackTab],
        "Tab",
        "next field (amount: payment method)",
        Action::NextField,
    ),
    b(&[Esc], "Esc", "cancel", Action::Back),
    b(
        &[Backspace],
        "Bksp",
        "delete a character",
        Action::Backspace,
    ),
    b(&[F(1)], "F1", "help", Action::Help),
];

pub const GLOBAL: &[Binding] = &[
    b(&[Char('1'), F(2)], "1", "dashboard", Action::GoDashboard),
    b(&[Char('2'), F(3)], "2", "meters", Action::GoMeters),
    b(&[Char('3'), F(4)], "3", "tenants & sales", Action::GoSales),
    b(&[Char('4'), F(6)], "4", "reports", Action::GoReports),
    b(&[Char('5'), F(7)], "5", "batch operations", Action::GoBatch),
    b(
        &[Char('6'), F(8)],
        "6",
        "site settings & import",
        Action::GoSite,
    ),
    b(
        &[Char('7'), F(9)],
        "7",
        "staff & audit log",
        Action::GoStaff,
    ),
    b(
        &[Char('8'), F(10)],
        "8",
        "suspect readings (not charged)",
        Action::GoSuspect,
    ),
    b(
        &[Char('9'), F(11)],
        "9",
        "office: pending refunds, close settlements, account history",
        Action::GoOffice,
    ),
    b(&[Char('R'), F(5)], "R/F5", "refresh now", Action::Refresh),
    b(&[Char('?'), F(1)], "?", "this help", Action::Help),
    b(
        &[Char('P')],
        "P",
        "change my password",
        Action::ChangePassword,
    ),
    b(&[Char('L')], "L", "log out", Action::Logout),
    b(&[Char('q')], "q", "quit (Ctrl-C anywhere)", Action::Quit),
];

pub const METERS: &[Binding] = &[
    b(&[Down, Char('j')], "↓/j", "next meter", Action::Down),
    b(&[Up, Char('k')], "↑/k", "previous meter", Action::Up),
    b(
        &[PageDown, Char('J')],
        "PgDn",
        "page down",
        Action::PageDown,
    ),
    b(&[PageUp, Char('K')], "PgUp", "page up", Action::PageUp),
    b(&[Home, Char('g')], "g", "first", Action::Top),
    b(&[End, Char('G')], "G", "last", Action::Bottom),
    b(
        &[Char('/')],
        "/",
        "filter: words, b:A building, f:3 floor",
        Action::StartFilter,
    ),
    b(
        &[Char(' '), Char('m')],
        "Space",
        "mark / unmark for a batch",
        Action::Mark,
    ),
    b(&[Char('U')], "U", "unmark all", Action::ClearMarks),
    b(
        &[Char('b')],
        "b",
        "batch over marked rows (or the filtered list)",
        Action::BatchOnSelection,
    ),
    b(&[Char('s')], "s", "sort by next column", Action::CycleSort),
    b(&[Char('S')], "S", "reverse sort", Action::ReverseSort),
    b(
        &[Enter, Char('l'), Right],
        "Enter",
        "meter detail",
        Action::Open,
    ),
    b(&[Esc], "Esc", "clear filter", Action::Back),
];

pub const METER_DETAIL: &[Binding] = &[
    b(
        &[Esc, Char('h'), Left],
        "Esc",
        "back to the table",
        Action::Back,
    ),
    b(
        &[Char('t')],
        "t",
        "trip (cut power)",
        Action::Command("trip"),
    ),
    b(
        &[Char('c')],
        "c",
        "close (restore power)",
        Action::Command("close"),
    ),
    b(
        &[Char('k')],
        "k",
        "keep power on",
        Action::Command("keep_power_on"),
    ),
    b(
        &[Char('K')],
        "K",
        "end keep power",
        Action::Command("keep_power_off"),
    ),
    b(
        &[Char('r')],
        "r",
        "restore prepaid mode",
        Action::Command("restore_prepaid"),
    ),
    b(
        &[Char('p')],
        "p",
        "push prices",
        Action::Command("push_prices"),
    ),
    b(
        &[Char('x')],
        "x",
        "push settings",
        Action::Command("push_settings"),
    ),
];

pub const SALES: &[Binding] = &[
    b(
        &[Char('/'), Char('u')],
        "/",
        "find tenant by unit, id or name",
        Action::Lookup,
    ),
    b(&[Char('s')], "s", "sell (top up)", Action::Sell),
    b(
        &[Char('m')],
        "m",
        "add a meter to the account",
        Action::AddMeter,
    ),
    b(
        &[Char('f')],
        "f",
        "refund part of the balance",
        Action::Refund,
    ),
    b(
        &[Char('v')],
        "v",
        "reverse the selected operation",
        Action::Reverse,
    ),
    b(
        &[Char('o')],
        "o",
        "open the tenant's account",
        Action::OpenAccount,
    ),
    b(
        &[Char('C')],
        "C",
        "close the account (settlement shown first)",
        Action::CloseAccount,
    ),
    b(&[Down, Char('j')], "↓/j", "next operation", Action::Down),
    b(&[Up, Char('k')], "↑/k", "previous operation", Action::Up),
    b(&[Esc], "Esc", "clear tenant", Action::Back),
];

pub const REPORTS: &[Binding] = &[
    b(&[Down, Char('j')], "↓/j", "next report", Action::Down),
    b(&[Up, Char('k')], "↑/k", "previous report", Action::Up),
    b(&[Enter], "Enter", "show the report", Action::Run),
    b(
        &[Right, Char('l')],
        "→",
        "more columns to the right",
        Action::ColumnsRight,
    ),
    b(
        &[Left, Char('h')],
        "←",
        "columns back to the left",
        Action::ColumnsLeft,
    ),
    b(
        &[Char('x')],
        "x",
        "save as Excel (.xlsx) on the appliance",
        Action::ExportXlsx,
    ),
    b(
        &[Char('c')],
        "c",
        "save as CSV on the appliance",
        Action::ExportCsv,
    ),
    b(
        &[Char('a')],
        "a",
        "acknowledge the top alarm (real-time alarms)",
        Action::AckAlarm,
    ),
    b(
        &[PageDown, Char('J')],
        "PgDn",
        "scroll the table down",
        Action::PageDown,
    ),
    b(
        &[PageUp, Char('K')],
        "PgUp",
        "scroll the table up",
        Action::PageUp,
    ),
];

pub const BATCH: &[Binding] = &[
    b(&[Down, Char('j')], "↓/j", "next operation", Action::Down),
    b(&[Up, Char('k')], "↑/k", "previous operation", Action::Up),
    b(
        &[Enter],
        "Enter",
        "run it on the selection (asks first)",
        Action::Run,
    ),
    b(
        &[PageDown, Char('J')],
        "PgDn",
        "scroll the results",
        Action::PageDown,
    ),
    b(
        &[PageUp, Char('K')],
        "PgUp",
        "scroll the results up",
        Action::PageUp,
    ),
    b(
        &[Esc],
        "Esc",
        "back to the meters (change the selection)",
        Action::Back,
    ),
];

pub const SITE: &[Binding] = &[
    b(&[Down, Char('j')], "↓/j", "next setting", Action::Down),
    b(&[Up, Char('k')], "↑/k", "previous setting", Action::Up),
    b(
        &[Enter, Char('e')],
        "Enter",
        "change the selected setting",
        Action::Edit,
    ),
    b(
        &[Char('i')],
        "i",
        "import a file (buildings … tenants)",
        Action::Import,
    ),
];

pub const STAFF: &[Binding] = &[
    b(&[Down, Char('j')], "↓/j", "next operator", Action::Down),
    b(&[Up, Char('k')], "↑/k", "previous operator", Action::Up),
    b(&[Tab], "Tab", "operators ⇄ audit log", Action::NextPane),
    b(&[Char('a')], "a", "add an operator", Action::AddOperator),
    b(
        &[Char('r')],
        "r",
        "reset the password",
        Action::ResetPassword,
    ),
    b(
        &[Char('d')],
        "d",
        "disable / enable",
        Action::ToggleDisabled,
    ),
    b(&[Char('o')], "o", "next role", Action::NextRole),
    b(
        &[PageDown, Char('J')],
        "PgDn",
        "older audit entries",
        Action::PageDown,
    ),
    b(
        &[PageUp, Char('K')],
        "PgUp",
        "newer audit entries",
        Action::PageUp,
    ),
];

pub const SUSPECT: &[Binding] = &[
    b(&[Down, Char('j')], "↓/j", "next reading", Action::Down),
    b(&[Up, Char('k')], "↑/k", "previous reading", Action::Up),
    b(&[Char('a')], "a", "accept: charge it", Action::Accept),
    b(&[Char('r')], "r", "reject: never charge it", Action::Reject),
    b(
        &[Char('b')],
        "b",
        "reject and re-baseline (meter replaced/reset)",
        Action::Rebaseline,
    ),
];

pub const OFFICE: &[Binding] = &[
    b(
        &[Tab],
        "Tab",
        "refunds → settlements → history",
        Action::NextPane,
    ),
    b(&[Down, Char('j')], "↓/j", "next row", Action::Down),
    b(&[Up, Char('k')], "↑/k", "previous row", Action::Up),
    b(
        &[Char('/'), Char('h')],
        "/",
        "account history of a tenant id",
        Action::Lookup,
    ),
];

pub const CONFIRM: &[Binding] = &[
    b(&[Char('y'), Enter], "y/Enter", "confirm", Action::Confirm),
    b(&[Char('n'), Esc], "n/Esc", "cancel", Action::Cancel),
];

pub fn table(ctx: Context) -> &'static [Binding] {
    match ctx {
        Context::Typing => TYPING,
        Context::Global => GLOBAL,
        Context::Meters => METERS,
        Context::MeterDetail => METER_DETAIL,
        Context::Sales => SALES,
        Context::Reports => REPORTS,
        Context::Batch => BATCH,
        Context::Site => SITE,
        Context::Staff => STAFF,
        Context::Suspect => SUSPECT,
        Context::Office => OFFICE,
        Context::Confirm => CONFIRM,
    }
}

/// The action of `code` in `ctx`, if a row claims it.
pub fn lookup(ctx: Context, code: KeyCode) -> Option<Action> {
    table(ctx)
        .iter()
        .find(|r| r.keys.contains(&code))
        .map(|r| r.action)
}
