//! Batch import of buildings, units, gateways, meters and tenants from CSV and XLSX.
