"""The archive: JSONL files of validated records, their writer, reader and command line."""
