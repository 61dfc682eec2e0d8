//! Simulated meters, gateways, modem and printer.
