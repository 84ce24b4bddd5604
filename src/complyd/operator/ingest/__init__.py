"""`complyd ingest`: scanner reports (XCCDF/ARF, InSpec JSON, SARIF, lynis-report.dat) turned
into PutComplianceItems requests, sent to an endpoint or applied to a store.

One module per report format reads its report into `report.Report` values and knows nothing of
the API; `requests` turns those into checked request bodies, `delivery` sends them, `command`
owns the flags. The format modules must not import the wire, the service or the store.
"""
