"""台账 exports: a curator's region's needs, pledges and deliveries as an XLSX workbook, built by a job."""
