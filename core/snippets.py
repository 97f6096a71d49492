"""Code that reads a source's data in the analysts' own tools: the forms the platform's user guidance gives, for
Python (pandas, polars, awswrangler, boto3, arrow-pd-parser) and R (Rs3tools, botor), with the real bucket and key.
Pure text: nothing here reads S3."""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from core.domain import InvalidInput

_KINDS = {
    ".csv": "CSV",
    ".tsv": "TSV",
    ".tab": "TSV",
    ".jsonl": "JSON lines",
    ".ndjson": "JSON lines",
    ".parquet": "Parquet",
    ".pq": "Parquet",
    ".xlsx": "Excel",
    ".xlsm": "Excel",
}


def file_kind(key: str) -> str | None:
    """What a file's name says it holds ("CSV", "Parquet"…), or None when Gatehouse cannot read it."""
    return _KINDS.get(posixpath.splitext(key.lower())[1])


PYTHON_LIBRARIES = ("pandas", "polars", "awswrangler", "boto3", "arrow-pd-parser")
R_LIBRARIES = ("Rs3tools", "botor")
_EXTENSIONS = {"CSV": "csv", "TSV": "tsv", "JSON lines": "jsonl", "Parquet": "parquet", "Excel": "xlsx"}


def snippet_language(library: str) -> str:
    return "r" if library in R_LIBRARIES else "python"


def snippets(bucket: str, key_or_prefix: str, folder_kind: str = "CSV") -> dict[str, str]:
    """Code that reads this object (or folder, for a prefix ending with / or the bucket itself) in each library the
    platform guidance names, in the guidance's own forms, with the real bucket and key.

    A library that cannot read the file (or a folder of such files) is left out; any file can at least be
    downloaded with boto3, Rs3tools and botor. A folder's files are taken to be `folder_kind` ones."""
    folder = key_or_prefix == "" or key_or_prefix.endswith("/")
    if folder and folder_kind not in _EXTENSIONS:
        raise InvalidInput(f"Choose what the folder's files are: {', '.join(_EXTENSIONS)}.")
    kind = folder_kind if folder else file_kind(key_or_prefix)
    makers = _FOLDER_SNIPPETS if folder else _FILE_SNIPPETS
    found = {library: make(bucket, key_or_prefix, kind) for library, make in makers.items()}
    return {library: code for library, code in found.items() if code}


def _uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def _r(text: str) -> str:
    """An R string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if ord(c) >= 32 and ord(c) != 127 else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def _basename(key: str) -> str:
    return key.rstrip("/").rsplit("/", 1)[-1] or "data"


_PANDAS = {
    "CSV": "pd.read_csv({uri})",
    "TSV": 'pd.read_csv({uri}, sep="\\t")',
    "JSON lines": "pd.read_json({uri}, lines=True)",
    "Parquet": "pd.read_parquet({uri})",
    "Excel": "pd.read_excel({uri})",
}
_POLARS = {
    "CSV": "pl.read_csv({uri})",
    "TSV": 'pl.read_csv({uri}, separator="\\t")',
    "JSON lines": "pl.read_ndjson({uri})",
    "Parquet": "pl.read_parquet({uri})",
}
_WRANGLER = {
    "CSV": "wr.s3.read_csv({uri}{dataset})",
    "TSV": 'wr.s3.read_csv({uri}, sep="\\t"{dataset})',
    "JSON lines": "wr.s3.read_json({uri}, lines=True{dataset})",
    "Parquet": "wr.s3.read_parquet({uri}{dataset})",
    "Excel": "wr.s3.read_excel({uri})",
}
_R_READERS = {
    "CSV": "read.csv",
    "TSV": "read.delim",
    "JSON lines": "function(path) jsonlite::stream_in(file(path))",
    "Parquet": "arrow::read_parquet",
    "Excel": "readxl::read_excel",
}


def _pandas_file(bucket: str, key: str, kind: str | None) -> str | None:
    if kind is None:
        return None
    call = _PANDAS[kind].format(uri=repr(_uri(bucket, key)))
    return f"# python -m pip install pandas s3fs\nimport pandas as pd\n\ndf = {call}\n"


def _polars_file(bucket: str, key: str, kind: str | None) -> str | None:
    if kind == "Excel":
        return (
            "# python -m pip install polars fastexcel s3fs\nimport polars as pl\nimport s3fs\n\n"
            f"fs = s3fs.S3FileSystem()\nwith fs.open({_uri(bucket, key)!r}, 'rb') as f:\n"
            "    df = pl.read_excel(f.read())\n"
        )
    if kind is None:
        return None
    call = _POLARS[kind].format(uri=repr(_uri(bucket, key)))
    return f"# python -m pip install polars s3fs\nimport polars as pl\n\ndf = {call}\n"


def _wrangler(bucket: str, key: str, kind: str | None, dataset: str = "") -> str | None:
    if kind is None:
        return None
    call = _WRANGLER[kind].format(uri=repr(_uri(bucket, key)), dataset=dataset)
    return f"# python -m pip install awswrangler\nimport awswrangler as wr\n\ndf = {call}\n"


def _boto3_file(bucket: str, key: str, kind: str | None) -> str:
    return (
        "# python -m pip install boto3\nimport boto3\n\ns3_client = boto3.client('s3')\n"
        f"s3_client.download_file({bucket!r}, {key!r}, {_basename(key)!r})\n"
    )


def _arrow_pd_parser_file(bucket: str, key: str, kind: str | None) -> str | None:
    if kind not in ("CSV", "JSON lines", "Parquet"):
        return None  # it reads these three, choosing by the file's extension
    return (
        "# python -m pip install arrow-pd-parser\nfrom arrow_pd_parser import reader\n\n"
        f"df = reader.read({_uri(bucket, key)!r})\n"
    )


def _rs3tools_file(bucket: str, key: str, kind: str | None) -> str:
    path = _r(f"{bucket}/{key}")
    if kind is None:
        return f"Rs3tools::download_file_from_s3({path}, {_r(_basename(key))}, overwrite = TRUE)\n"
    return f"df <- Rs3tools::read_using(FUN = {_R_READERS[kind]}, s3_path = {path})\n"


def _botor_file(bucket: str, key: str, kind: str | None) -> str:
    uri = _r(_uri(bucket, key))
    if kind is None:
        return f"library(botor)\ns3_download_file({uri}, {_r(_basename(key))})\n"
    return f"library(botor)\ndf <- s3_read({uri}, {_R_READERS[kind]})\n"


def _pandas_folder(bucket: str, prefix: str, kind: str | None) -> str | None:
    if kind != "Parquet":
        return None  # pandas reads a folder only as a Parquet dataset; awswrangler and polars read the others
    uri = repr(_uri(bucket, prefix))
    return f"# python -m pip install pandas pyarrow s3fs\nimport pandas as pd\n\ndf = pd.read_parquet({uri})\n"


def _polars_folder(bucket: str, prefix: str, kind: str | None) -> str | None:
    if kind not in _POLARS:
        return None
    pattern = repr(f"{_uri(bucket, prefix)}*.{_EXTENSIONS[kind]}")
    return f"# python -m pip install polars s3fs\nimport polars as pl\n\ndf = {_POLARS[kind].format(uri=pattern)}\n"


def _wrangler_folder(bucket: str, prefix: str, kind: str | None) -> str | None:
    return None if kind in (None, "Excel") else _wrangler(bucket, prefix, kind, dataset=", dataset=True")


def _boto3_folder(bucket: str, prefix: str, kind: str | None) -> str:
    return (
        "# python -m pip install boto3\nimport os\n\nimport boto3\n\ns3_client = boto3.client('s3')\n"
        "paginator = s3_client.get_paginator('list_objects_v2')\n"
        f"for page in paginator.paginate(Bucket={bucket!r}, Prefix={prefix!r}):\n"
        "    for item in page.get('Contents', []):\n"
        "        if not item['Key'].endswith('/'):\n"
        f"            s3_client.download_file({bucket!r}, item['Key'], os.path.basename(item['Key']))\n"
    )


def _rs3tools_folder(bucket: str, prefix: str, kind: str | None) -> str | None:
    if kind not in _R_READERS:
        return None
    return (
        f"paths <- Rs3tools::list_files_in_buckets(bucket_filter = {_r(bucket)}, prefix = {_r(prefix)}, "
        "path_only = TRUE)\n"
        f'paths <- paths[grepl("\\\\.{_EXTENSIONS[kind]}$", paths)]\n'
        f"df <- do.call(rbind, lapply(paths, function(p) Rs3tools::read_using(FUN = {_R_READERS[kind]}, "
        "s3_path = p)))\n"
    )


def _botor_folder(bucket: str, prefix: str, kind: str | None) -> str | None:
    if kind not in _R_READERS:
        return None
    return (
        f"library(botor)\nfiles <- s3_ls({_r(_uri(bucket, prefix))})\n"
        f'files <- files[grepl("\\\\.{_EXTENSIONS[kind]}$", files$key), ]\n'
        f"df <- do.call(rbind, lapply(files$uri, s3_read, {_R_READERS[kind]}))\n"
    )


_FILE_SNIPPETS: dict[str, Callable[[str, str, str | None], str | None]] = {
    "pandas": _pandas_file,
    "polars": _polars_file,
    "awswrangler": _wrangler,
    "boto3": _boto3_file,
    "arrow-pd-parser": _arrow_pd_parser_file,
    "Rs3tools": _rs3tools_file,
    "botor": _botor_file,
}
_FOLDER_SNIPPETS: dict[str, Callable[[str, str, str | None], str | None]] = {
    "pandas": _pandas_folder,
    "polars": _polars_folder,
    "awswrangler": _wrangler_folder,
    "boto3": _boto3_folder,
    "Rs3tools": _rs3tools_folder,
    "botor": _botor_folder,
}
