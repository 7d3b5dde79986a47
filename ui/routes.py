"""Where each page lives, so pages can link to one another by a name instead of a file path."""

from __future__ import annotations

BATCHES = "app_pages/batches.py"
BATCH = "app_pages/batch.py"
SHOT = "app_pages/shot.py"
APPROVALS = "app_pages/approvals.py"
LAUNCH = "app_pages/launch.py"
QUEUE = "app_pages/queue.py"
CLIENT_REVIEW = "app_pages/client_review.py"
OWNER_LOGIN = "app_pages/owner_login.py"

# Query parameters that carry a page's subject.
BATCH_PARAM = "batch"
SHOT_PARAM = "shot"
SHARE_PARAM = "share"
