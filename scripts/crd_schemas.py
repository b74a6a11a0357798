"""Where the strict CRD JSON schemas are (data, not part of the project; kubeconform's
`{group}/{kind}_{version}.json` layout), for scripts/validate-crs.py and
scripts/check-argocd-apps.py: $TANKSIM_CRD_SCHEMAS, else `shared/crd-schemas` beside the
repository, else beside the repository it was cloned from (a fresh clone in /tmp has its
origin beside `shared/`). In GitHub Actions the ci workflow checks out the same catalog and
sets TANKSIM_CRD_SCHEMAS."""

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def candidates() -> list[Path]:
    found = []
    if os.environ.get("TANKSIM_CRD_SCHEMAS"):
        found.append(Path(os.environ["TANKSIM_CRD_SCHEMAS"]))
    found.append(REPO.parent / "shared" / "crd-schemas")
    try:
        origin = subprocess.run(
            ["git", "-C", str(REPO), "remote", "get-url", "origin"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        origin = ""
    origin = origin.removeprefix("file://")
    if origin.startswith("/"):
        found.append(Path(origin).resolve().parent / "shared" / "crd-schemas")
    return found


def locate(group: str) -> Path | None:
    """The first candidate holding `group`'s schemas, or None."""
    for candidate in candidates():
        if (candidate / group).is_dir():
            return candidate.resolve()
    return None
