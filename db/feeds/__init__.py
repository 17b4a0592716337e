"""Live job-ad feeds: job-board APIs, URLs and folders fetched into the ingest path."""
