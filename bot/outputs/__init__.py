"""What the secretariat receives: the digest, its chart, the workbook and the CSV export."""
