//! The field side end to end: the collector over simulated buses and gateways, the control
//! queue (trips, closes, credit, prices, rationing, meter watch), alarms and SMS, and the
//! demo building read through all its gateway kinds.

#[path = "../support/mod.rs"]
mod support;

mod alarm_scale;
mod alarm_sms;
mod closing;
mod collector_dlt645;
mod collector_e2e;
mod collector_submit;
mod control_enforcement;
mod credit_push;
mod demo_field;
mod documented_map;
mod gateway_link;
mod meter_settings_push;
mod meter_watch;
mod prepaid_lifecycle;
mod rationing;
mod read_scan;
mod suspect_readings;
mod suspect_routes;
mod tenant_switch;
