"""Comments: posting, replies, edits, deletion, reports and thread listing."""
