"""What pages and the CLI show: each read takes a session (the page's cached-read runner or the CLI opens it),
checks who may see what in core, and pages in the database. Nothing here writes."""
