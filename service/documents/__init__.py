"""Documents people print and file: 推荐表, meeting records, summaries and ledgers, exports."""
