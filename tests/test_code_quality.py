"""The code stays as STYLE.md asks: ruff-clean, and pages never talk to AWS or SQL themselves."""

import ast
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


PAGES = [ROOT / "app.py", *(ROOT / "pages").rglob("*.py")]


def imports(path: Path) -> set[str]:
    """Every module a file imports (the module of a `from x import y`)."""
    tree = ast.parse(path.read_text())
    found = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return found | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


def test_pages_are_thin() -> None:
    """Pages read widgets, call one core function and show its answer: no SQL, no AWS, no session of their own."""
    for page in PAGES:
        talks = {m for m in imports(page) if m.split(".")[0] in ("boto3", "botocore", "sqlmodel", "sqlalchemy")}
        talks |= {m for m in imports(page) if m.startswith("core.adapters.") and m != "core.adapters.models"}
        assert not talks, f"{page.name} talks to AWS or the database directly: {talks}"
        opens = [
            node.lineno
            for node in ast.walk(ast.parse(page.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "session"
        ]
        assert not opens, f"{page.name} opens a session itself (lines {opens}): read through cached.read"


def test_only_the_aws_adapter_calls_boto3() -> None:
    outside = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "core").rglob("*.py")
        if "adapters" not in path.parts and {m.split(".")[0] for m in imports(path)} & {"boto3", "botocore"}
    ]
    assert not outside, f"only core/adapters/ may import boto3: {outside}"
    clients = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in [*(ROOT / "core").rglob("*.py"), *PAGES]
        if "adapters" not in path.parts
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr in ("s3", "iam", "s3_create_only", "client", "_clients")
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "aws"
    ]
    assert not clients, f"a boto3 client used outside core/adapters/: {clients}"


def test_only_the_adapters_speak_to_outside_servers() -> None:
    """A mail server, like AWS, is reached through core/adapters/ alone: the rest of core says what to send."""
    protocols = {"smtplib", "ssl", "socket", "http.client", "urllib.request", "requests", "httpx"}
    outside = [
        str(path.relative_to(ROOT))
        for path in [*(ROOT / "core").rglob("*.py"), *PAGES]
        if "adapters" not in path.parts and any(m in protocols or m.split(".")[0] in protocols for m in imports(path))
    ]
    assert not outside, f"only core/adapters/ may open a connection: {outside}"


def test_the_rules_do_no_io() -> None:
    """The rules, the words they use and the policy compiler are plain values in, decisions out: they import nothing
    that reaches a database, AWS or a page, so every rule is tested on values alone."""
    pure = {"__future__", "re", "json", "urllib.parse", "dataclasses", "enum", "datetime", "typing", "posixpath"}
    pure |= {"collections", "collections.abc", "core.domain", "core.paths", "core.rules", "core.policy"}
    rules = [f"rules/{path.name}" for path in (ROOT / "core" / "rules").glob("*.py")]
    pure |= {f"core.rules.{path.stem}" for path in (ROOT / "core" / "rules").glob("*.py")}
    for module in (*rules, "domain.py", "paths.py", "policy.py", "policy_reader.py", "snippets.py"):
        assert imports(ROOT / "core" / module) <= pure, (
            f"core/{module} imports {imports(ROOT / 'core' / module) - pure}"
        )


def _core_names(tree: ast.Module) -> dict[str, object]:
    """What each name a page imports from core is: a module of core, or a function of one."""
    names: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("core"):
            module = importlib.import_module(node.module or "")
            for alias in node.names:
                names[alias.asname or alias.name] = (
                    getattr(module, alias.name)
                    if hasattr(module, alias.name)
                    else importlib.import_module(f"{node.module}.{alias.name}")
                )
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("core") and alias.asname:
                    names[alias.asname] = importlib.import_module(alias.name)
    return names


def _resolved(node: ast.expr, names: dict[str, object]) -> object:
    """The object of core a name (`previous_forms`) or a module's attribute (`catalog.access_list`) is, else None."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
        return getattr(names[node.value.id], node.attr, None)
    return None


def _takes_a_session(fn: object) -> bool:
    if not callable(fn) or isinstance(fn, type):
        return False
    try:
        first = next(iter(inspect.signature(fn).parameters), "")
    except (TypeError, ValueError):
        return False
    return first == "session"


def test_pages_read_core_one_way() -> None:
    """A page reads core one way, through pages/ui/cached.py: `read` (kept until the next write), `read_now` or
    `read_text` (read once, not kept), each of which runs the read in a unit of work of its own. Never a function of
    core that takes a session called by the page itself, nor a read (or a lambda) handed to `gh.run`, which is left
    for the sign-in's bookkeeping (core/auth's writes); never core.queries."""
    offenders = []
    for page in PAGES:
        if page.name == "cached.py":
            continue
        tree = ast.parse(page.read_text())
        names = _core_names(tree)
        where = page.relative_to(ROOT)
        offenders += [f"{where} imports {m}" for m in imports(page) if m == "core.queries"]
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("session", "engine")
                and ast.unparse(node) != "st.session"
            ):
                offenders.append(f"{where}:{node.lineno} hands on the database itself: {ast.unparse(node)}")
            if not isinstance(node, ast.Call):
                continue
            if _takes_a_session(_resolved(node.func, names)):
                offenders.append(f"{where}:{node.lineno} calls {ast.unparse(node.func)} with a session of its own")
            if isinstance(node.func, ast.Attribute) and node.func.attr == "run" and node.args:
                ran = node.args[0]
                fn = _resolved(ran, names)
                module = getattr(fn, "__module__", "") or ""
                if isinstance(ran, ast.Lambda) or module.startswith(("core.reads", "core.queries")):
                    offenders.append(f"{where}:{node.lineno} reads through gh.run: {ast.unparse(ran)}")
    assert not offenders, offenders


def test_every_fragment_reads_the_write_revision_again() -> None:
    """A fragment reruns alone at a click inside it: a read keyed on the revision its page read (cached.read) would
    show what was kept before a write made since, in this session or another (alice's download stayed "waiting for
    carol" after carol signed). So a page's fragments are `cached.fragment`, which reads the revision at each run;
    never `st.fragment` itself."""
    offenders = [
        f"{page.relative_to(ROOT)}:{node.lineno}"
        for page in PAGES
        if page.name != "cached.py"
        for node in ast.walk(ast.parse(page.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "fragment" and ast.unparse(node.value) == "st"
    ]
    assert not offenders, offenders


def test_no_module_grows_past_what_one_reader_holds() -> None:
    """A module is one coherent thing: past 450 lines it is several (the migrations are history, not code)."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in [*(ROOT / "core").rglob("*.py"), *PAGES]
        if "versions" not in path.parts and (n := len(path.read_text().splitlines())) > 450
    }
    assert not long, long


# Streamlit renders Markdown in these elements' text: their body or label, and their `help` and `text`.
RENDERS_MARKDOWN = {
    "markdown", "caption", "title", "header", "subheader", "write", "info", "success", "warning", "error", "toast",
    "button", "download_button", "link_button", "form_submit_button", "page_link", "checkbox", "toggle", "radio",
    "selectbox", "multiselect", "text_input", "text_area", "date_input", "number_input", "file_uploader", "expander",
    "popover", "metric", "tabs", "progress", "spinner", "pills", "segmented_control", "select_slider", "slider",
    "status", "dialog", "badge", "time_input", "color_picker", "feedback", "chat_message", "chat_input",
}  # fmt: skip
# Elements whose options are drawn as Markdown too: their options and format_func must show as text.
MARKDOWN_OPTIONS = {"radio", "pills", "segmented_control", "select_slider"}
# The st.* calls that show no text of their own (or only as text, never Markdown). A new element is in neither set
# until someone has looked at whether it renders Markdown.
SHOWS_NO_MARKDOWN = {
    "dataframe", "text", "code", "columns", "container", "form", "empty", "divider", "rerun", "stop", "switch_page",
    "navigation", "Page", "set_page_config", "get_option", "cache_data", "cache_resource", "fragment", "login",
    "logout",
}  # fmt: skip
MARKDOWN_KEYWORDS = {"body", "label", "help", "text", "placeholder"}
MARKUP = {"literal", "bold", "link", "table"}  # pages/ui/markup.py: text in, Markdown that shows it out
MARKUP |= {"day", "moment", "clock"}  # core.domain: a date or a moment, written one way


def _shows_as_text(node: ast.expr) -> bool:
    """Whether an element's text is built only from constants, numbers and dates formatted with a format spec, enum
    labels, and pages/markup's functions: nothing a person typed or S3 returned reaches Markdown unescaped."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Call):
        called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if called in MARKUP:
            return True
        if called == "plural":  # core.domain: a count and our own noun
            return all(isinstance(a, ast.Constant) for a in node.args[1:])
        return isinstance(node.func, ast.Attribute) and node.func.attr == "lower" and _shows_as_text(node.func.value)
    if isinstance(node, ast.Attribute):
        return node.attr == "label"  # AccessLevel and SourceKind labels: our own words
    if isinstance(node, ast.JoinedStr):
        return all(
            isinstance(part, ast.Constant) or _is_number_or_date(part) or _shows_as_text(part.value)
            for part in node.values
            if isinstance(part, ast.FormattedValue | ast.Constant)
        )
    if isinstance(node, ast.BinOp):
        return _shows_as_text(node.left) and _shows_as_text(node.right)
    if isinstance(node, ast.IfExp):
        return _shows_as_text(node.body) and _shows_as_text(node.orelse)
    if isinstance(node, ast.List | ast.Tuple):
        return all(_shows_as_text(element) for element in node.elts)
    if isinstance(node, ast.ListComp):
        return _shows_as_text(node.elt)
    if isinstance(node, ast.Lambda):  # a format_func
        return _shows_as_text(node.body)
    return False


def _is_number_or_date(part: ast.FormattedValue) -> bool:
    """`{n:,}`, `{n:d}`, `{at:%d %b %Y}`: a format spec that only a number or a date takes (`:s` would be text)."""
    spec = part.format_spec
    if not isinstance(spec, ast.JoinedStr) or not all(isinstance(v, ast.Constant) for v in spec.values):
        return False
    text = "".join(str(v.value) for v in spec.values if isinstance(v, ast.Constant))
    return bool(text) and ("%" in text or text[-1] in ",dfegx%") and not text.endswith("s")


def _renders_markdown(func: ast.expr) -> bool:
    if isinstance(func, ast.IfExp):  # (st.error if failed else st.success)(...)
        return _renders_markdown(func.body) or _renders_markdown(func.orelse)
    return isinstance(func, ast.Attribute) and func.attr in RENDERS_MARKDOWN


def test_pages_put_user_text_into_markdown_only_through_markup() -> None:
    """Every element text on every page is literal text or built by pages/ui/markup.py (a path, an object's name or a
    business need holding `![x](https://…)` or `www.…` would otherwise be an image or a link for whoever reads it)."""
    offenders = []
    for page in PAGES:
        if page.name == "markup.py":
            continue
        for node in ast.walk(ast.parse(page.read_text())):
            if not isinstance(node, ast.Call) or not _renders_markdown(node.func):
                continue
            # progress(value, text=…) and page_link(page, label=…): their first argument is not text
            name = getattr(node.func, "attr", "")
            first = [] if name in ("progress", "page_link") else node.args[:1]
            texts = first + [k.value for k in node.keywords if k.arg in MARKDOWN_KEYWORDS]
            if name in MARKDOWN_OPTIONS:  # what is shown of an option is its format_func's text, or the option
                shown = [k.value for k in node.keywords if k.arg in ("format_func", "captions")]
                options = node.args[1:2] + [k.value for k in node.keywords if k.arg == "options"]
                texts += shown if any(k.arg == "format_func" for k in node.keywords) else shown + options
            for text in texts:
                if not _shows_as_text(text):
                    offenders.append(f"{page.name}:{node.lineno}: {ast.unparse(text)[:90]}")
        for node in ast.walk(ast.parse(page.read_text())):
            called = node.func if isinstance(node, ast.Call) else None
            if not isinstance(called, ast.Attribute):
                continue
            receiver = called.value.id if isinstance(called.value, ast.Name) else ""
            if receiver == "st" and called.attr not in RENDERS_MARKDOWN | SHOWS_NO_MARKDOWN:
                offenders.append(f"{page.name}:{node.lineno}: st.{called.attr} (does it render Markdown? list it)")
            if called.attr in ("table", "write", "html") and receiver != "pa":  # pa.table: an Arrow table
                offenders.append(f"{page.name}:{node.lineno}: .{called.attr} renders whatever it is given")
        if "unsafe_allow_html" in page.read_text():
            offenders.append(f"{page.name}: unsafe_allow_html")
    assert not offenders, "user text may reach Markdown unescaped:\n" + "\n".join(offenders)


def test_page_functions_take_what_they_use() -> None:
    """A function on a page reads no variable the page's script sets (gh, me, a search): it is given what it uses,
    so it can be read, and moved, on its own. Constants (UPPER_CASE) are fine."""
    offenders = []
    for page in PAGES:
        tree = ast.parse(page.read_text())
        script = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name) and not target.id.isupper()
        }
        for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            local = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
            local |= {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            used = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            offenders += [f"{page.name}: {function.name} reads {name}" for name in sorted(used & script - local)]
    assert not offenders, offenders


CORE = [path for path in (ROOT / "core").rglob("*.py") if "migrations" not in path.parts]


def _own_date_format(node: ast.AST, page: bool) -> bool:
    """A date or moment written some other way than core.domain's day, moment or clock: a format spec of its own
    (`f"{d:%Y-%m-%d}"`), strftime, isoformat in a sentence (anywhere on a page), or a date put in a sentence as it
    prints (`f"until {grant.expires_on}"` reads 2027-06-30)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "strftime" or (page and node.func.attr == "isoformat")
    if not isinstance(node, ast.FormattedValue):
        return False
    if node.format_spec is not None and re.search(r"%[a-zA-Z]", ast.unparse(node.format_spec)):
        return True
    value = node.value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "isoformat":
        return True
    name = value.attr if isinstance(value, ast.Attribute) else value.id if isinstance(value, ast.Name) else ""
    return node.format_spec is None and name not in NOT_DATES and re.search(r"_on$|_at$|^at$", name) is not None


NOT_DATES = {"broken_at"}  # an event's number, though its name ends like a moment's


def test_dates_are_written_one_way() -> None:
    """A day or a moment people read, on a page or in a message, an email, an audit summary or the CLI, is written
    by core.domain's day, moment or clock (30 Jun 2027, 30 Jun 2027 14:05 UTC): once four styles met one user.
    Data for machines (JSON, CSV fields, the audit chain) may keep isoformat, outside a sentence."""
    own = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in [*PAGES, *CORE]
        if path != ROOT / "core" / "domain.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if _own_date_format(node, path in PAGES)
    ]
    assert not own, f"dates written in a format of their own (use core.domain.day, moment or clock): {own}"


def _count_before_plural(node: ast.JoinedStr) -> bool:
    """`f"{n:,} events"`: a count that may be 1 followed by a plural noun (a limit's constant, in capitals, is more)."""
    for value, after in zip(node.values, node.values[1:], strict=False):
        if not (isinstance(value, ast.FormattedValue) and isinstance(after, ast.Constant)):
            continue
        counted = value.format_spec is not None and ast.unparse(value.format_spec).strip("f'\"") in (",", "d", ",d")
        counted |= isinstance(value.value, ast.Call) and ast.unparse(value.value.func) == "len"
        constant = re.fullmatch(r"[A-Z_][A-Z0-9_.]*", ast.unparse(value.value).split(".")[-1]) is not None
        if counted and not constant and re.match(r" (?!is\b|was\b|has\b)[a-z]+s\b", str(after.value)):
            return True
    return False


def test_counts_agree_with_their_nouns() -> None:
    """ "1 events": a count shown to people goes through core.domain.plural (1 event, 2 events), and no noun is left
    to the reader to agree ("role(s)")."""
    wrong = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in [*PAGES, *CORE]
        for node in ast.walk(ast.parse(path.read_text()))
        if (isinstance(node, ast.JoinedStr) and _count_before_plural(node))
        or (isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"[a-z]\(s\)", node.value))
    ]
    assert not wrong, f"a count and a plural noun that may disagree (use core.domain.plural): {wrong}"


def test_no_two_test_files_share_a_name() -> None:
    """pytest imports test modules by their file name (tests/ folders are not packages): two files of one name in two
    folders stop the whole run at collection ("import file mismatch"), whichever is collected second."""
    names: dict[str, list[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert not {name: paths for name, paths in names.items() if len(paths) > 1}


def test_browser_tests_wait_for_what_they_need_never_a_fixed_time() -> None:
    """A browser test waits for a thing on the page, bounded by tests/browser/conftest.py's WAIT_MS (or a retried
    step's `tries()`): a literal timeout or sleep in a test is what failed on a loaded machine (an audit download
    waited 30 s at a load average of 5)."""
    literal = re.compile(r"timeout\s*=\s*[0-9]|wait_for_timeout\(|time\.sleep\(")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "tests" / "browser").glob("test_*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if literal.search(line)
    ]
    assert not found, "a fixed wait in a browser test:\n" + "\n".join(found)


def test_browser_tests_wait_for_the_first_match_never_a_strict_one() -> None:
    """While a Streamlit run redraws, the element it replaces and the new one are both on the page for a moment, so a
    strict wait on a locator fails on two matches (the sign-in form, twice, after a sign-out on a loaded machine).
    A test waits for the first match (`.first.wait_for`) and counts matches where one is what it asserts."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "tests" / "browser").glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"(?<!\.first)(?<!\.last)\.wait_for\(", line)
    ]
    assert not found, "a strict wait in a browser test:\n" + "\n".join(found)


def test_dependencies_are_locked_with_hashes() -> None:
    """A fresh clone installs what CI last passed with: every requirement of requirements.lock is pinned with its
    hashes, and everything pyproject names is in it (`python3 dev.py lock` refreshes it)."""
    import tomllib

    lock = (ROOT / "requirements.lock").read_text()
    pinned = {
        m.group(1).lower().replace("_", "-"): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", lock, re.MULTILINE)
    }
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 2)[2])
    unhashed = [entry.split()[0] for entry in entries if entry.strip() and "--hash=sha256:" not in entry]
    assert not unhashed, f"requirements.lock pins without a hash: {unhashed}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    names = {re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0).lower().replace("_", "-") for requirement in named}
    assert names <= set(pinned), f"named in pyproject.toml but not locked: {sorted(names - set(pinned))}"


def test_every_download_button_leaves_the_page_as_it_is() -> None:
    """A download button whose file is made at the click must not also rerun the page: the rerun drops the file the
    click asked for, and the download never comes (the audit export did this on a loaded machine)."""
    unsafe = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in PAGES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "download_button"
        and not any(
            k.arg == "on_click" and isinstance(k.value, ast.Constant) and k.value.value == "ignore"
            for k in node.keywords
        )
    ]
    assert not unsafe, f"a download button reruns the page (on_click='ignore' keeps it): {unsafe}"


def test_no_test_asserts_how_long_something_took() -> None:
    """Speed is measured by bench/ side by side, never asserted in a test: a clock in an assertion fails on a busy
    machine and passes on a quiet one, whatever the code does."""
    clocks = ("perf_counter", "monotonic", "time.time", "process_time")
    timed = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in (ROOT / "tests").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assert) and any(clock in ast.unparse(node) for clock in clocks)
    ]
    assert not timed, f"a timing assertion in a test: {timed}"


def test_every_date_field_gives_the_script_the_date_typed() -> None:
    """Streamlit shows a typed date outside a date_input's bounds in red and gives the script the field's last valid
    value (or None) instead, and with no bounds given its bounds are ten years either side: so every date field's
    bounds are the calendar's own (date.min, date.max), what is typed reaches core as typed, and core's rules refuse
    what is out of range with one sentence (issue 25: 9999-12-31 stored a request with no end date)."""
    fields = [
        (f"{path.relative_to(ROOT)}:{node.lineno}", {k.arg: ast.unparse(k.value) for k in node.keywords})
        for path in PAGES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "date_input"
    ]
    assert fields, "no st.date_input found: the walk looks in the wrong place"
    bounded = [where for where, kw in fields if (kw.get("min_value"), kw.get("max_value")) != ("date.min", "date.max")]
    assert not bounded, f"a date field whose bounds would swallow a typed date (use widgets.any_date): {bounded}"


def test_core_readme_names_every_module_of_core_and_nothing_else() -> None:
    """core/README.md's table of modules is where a newcomer finds their way: every module of core has its row (a
    directory's row, ending in /, stands for what is in it), and no row names a module that is gone."""
    readme = (ROOT / "core" / "README.md").read_text().split("## Modules", 1)[1]
    named = set(re.findall(r"^\| `([\w/.]+)` \|", readme, flags=re.MULTILINE))
    directories = {name for name in named if name.endswith("/")}
    modules = {
        str(path.relative_to(ROOT / "core"))
        for path in (ROOT / "core").rglob("*.py")
        if path.name != "__init__.py" or path.parent.name in ("rules", "access")
    }
    unlisted = {m for m in modules - named if not any(m.startswith(d) for d in directories)}
    assert not unlisted, f"modules with no row in core/README.md: {sorted(unlisted)}"
    gone = {n for n in named - modules if not (n.endswith("/") and (ROOT / "core" / n).is_dir())}
    assert not gone, f"rows of core/README.md for modules that do not exist: {sorted(gone)}"


def test_browser_tests_download_through_the_one_helper() -> None:
    """A download is asked for by the button the last run drew: a click while a run redraws it gets no file (the
    Browse download waited 180 s for nothing on a loaded machine). tests/browser/conftest.py's `download` waits for
    the page to be still first; no test clicks a download button any other way."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests" / "browser").glob("test_*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "expect_download" in line
    ]
    assert not found, "a download clicked without waiting for the page to be still:\n" + "\n".join(found)


# What takes something away from someone (access, a request, a token, IAM as it stands): its button only opens a step
# that says what will happen (`widgets.risky_button` and its dialog, or a label ending "…" that opens a step), never
# acts on the click. The steps that are themselves the confirmation, named with why:
TAKES_AWAY = re.compile(r"^f?['\"](Revoke|Remove|Withdraw|Archive|Repair|Delete|Mark as left|End |No longer needed)")
CONFIRMING_STEPS = {
    ("pages/ui/reviews_view.py", 'f"Revoke {literal(row.holder)}\'s access"'),  # the step "Revoke…" opened
}


def test_a_button_that_takes_something_away_only_asks_first() -> None:
    acting = [
        f"{path.relative_to(ROOT)}:{node.lineno} {label}"
        for path in PAGES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("button", "form_submit_button")
        and node.args
        and TAKES_AWAY.match(label := ast.unparse(node.args[0]))
        and not label.rstrip("'\"").endswith("…")
        and (str(path.relative_to(ROOT)), label) not in CONFIRMING_STEPS
    ]
    assert not acting, f"acts at a click without saying first what it takes away (use widgets.risky_button): {acting}"


def test_a_form_keeps_what_was_typed_until_its_action_succeeds() -> None:
    """`clear_on_submit` empties a form at every click, also when core refuses what was typed (the person types it all
    again to mend one letter): a form starts fresh only after its action succeeded (`widgets.fresh`/`succeeded`)."""
    clearing = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in PAGES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.keyword) and node.arg == "clear_on_submit"
    ]
    assert not clearing, f"a form cleared at every click, refused or not: {clearing}"


# IAM sync and email follow a commit (Gatehouse.session, by core/effects.py), never an action's own call: the few
# other callers are the retries of what an earlier commit left waiting, named here with why.
AFTER_COMMIT_CALLERS = {
    "sync_pending": {
        "core/context.py",  # the unit of work's after-commit step (core/effects.py says what is due)
        "core/actions/reconcile.py",  # the platform team's "Retry now"
        "core/startup.py",  # a start applies what waits (the emulation may have forgotten it all)
    },
    "deliver_email": {"core/context.py", "core/startup.py"},  # a start sends what an earlier outage left
}


def test_only_the_after_commit_step_applies_roles_and_sends_email() -> None:
    called = {  # called, or handed to something that calls it (a thread)
        (name, str(path.relative_to(ROOT)))
        for path in [*PAGES, *(ROOT / "core").rglob("*.py")]
        for node in ast.walk(ast.parse(path.read_text()))
        if (name := getattr(node, "id", None) or getattr(node, "attr", None)) in AFTER_COMMIT_CALLERS
        and isinstance(node, ast.Name | ast.Attribute)
    }
    stray = sorted((name, where) for name, where in called if where not in AFTER_COMMIT_CALLERS[name])
    assert not stray, f"called outside the after-commit step (declare it in the unit of work instead): {stray}"


def test_no_module_of_core_imports_one_that_imports_it_back() -> None:
    """Modules import one way: a cycle (two modules each needing the other's names, one of them at call time) makes
    both one module in all but name. An import for type hints only (`if TYPE_CHECKING:`) is no dependency."""
    imports: dict[str, set[str]] = {}
    for path in (ROOT / "core").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found = imports.setdefault(name, set())
        tree = ast.parse(path.read_text())
        hints = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in hints:
                continue
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core"):
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.startswith("core"))
    cycles = sorted(
        (a, b)
        for a, needs in imports.items()
        for b in needs & imports.keys()
        if a < b and a in imports.get(b, set()) and a != "core" and b != "core"
    )
    assert not cycles, f"modules that import each other: {cycles}"


def test_the_active_admin_is_said_once_in_sql() -> None:
    """Who decides for a source (an admin grant of a member who has not left) is one condition, `queries.active_admin`:
    a query that spells it out again drifts from the rule the day one of them changes."""
    spelled = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in CORE
        if path.name != "queries.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "where"
        and "AccessLevel.ADMIN" in (text := ast.unparse(node))
        and "UserStatus.ACTIVE" in text
    ]
    assert not spelled, f"the active admin spelled out again (use queries.active_admin): {spelled}"


def test_every_name_a_package_exports_is_there() -> None:
    """A package's `__all__` names what callers may import from it: each name is bound (an import lost in a move, or
    written inside the docstring, would otherwise surface only in the one caller that uses it)."""
    import importlib

    missing_names = [
        f"{package}.{name}"
        for package in ("core.actions", "core.rules")
        for module in [importlib.import_module(package)]
        for name in getattr(module, "__all__", [])
        if not hasattr(module, name)
    ]
    assert not missing_names, f"exported but not there: {missing_names}"
