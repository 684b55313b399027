"""Extract the shell commands shown in the operator documentation and check that each one is real
(docs/DESIGN.md#operator-documentation).

Which fenced code blocks hold commands (the convention the docs follow):

- ```sh, ```bash, ```shell: every line is shell. ``#`` starts a comment.
- ```console: only lines starting with ``$ `` are commands (the prompt is
  stripped, ``\\`` continuations are followed); every other line is output.
- an unlabeled block: console style if any line starts with ``$ ``;
  otherwise shell when the first word of its first line is a program this
  checker knows (a project program, ``make``, a project path, a standard
  tool); otherwise output or prose, skipped. Output, diagrams and file
  contents should be labeled (```text, ```yaml, ```ini, ```toml, ```json...);
  labeled non-shell blocks are never read as commands.

How a block is read: ``\\`` continuations and lines ending in ``|``, ``&&``
or ``||`` are joined; heredoc bodies (``<<EOF`` ... ``EOF``) are data, not
commands; ``$(...)`` and backquotes are checked as commands of their own;
commands are split at ``|``, ``||``, ``&&``, ``;``, ``&`` and parentheses;
leading ``VAR=value`` assignments and wrappers (``sudo``, ``env``, ``nohup``,
``timeout N``, ``runuser -u USER --``) are looked through; redirection
targets are not arguments. A usage synopsis's ``[--option VALUE]`` brackets
are dropped, so the option inside is checked.

What is checked for each command's program:

- project console scripts (setup.py's entry points; also as /usr/bin/X,
  /opt/venvs/rosey-bot/bin/X, .venv/bin/X): the arguments are parsed by the
  program's real argparse parser (subcommands, options, option values);
- ``make``: each target exists in the Makefile's database (``make -pq``),
  each ``VAR=value`` is a variable the Makefile reads, and every project
  script or playbook a named target's recipe runs exists;
- a project path (``repo/withdraw.sh``): exists and is executable; each of
  its ``--options`` occurs in the script;
- ``.venv/bin/python FILE`` / ``.venv/bin/pytest PATH``: the files exist,
  options of FILE occur in it;
- any argument naming a project path (``deploy/playbooks/x.yml``,
  ``tests/...``) exists;
- standard tools: only those in STANDARD_TOOLS (each with the Debian package
  that provides it), found on this Debian 12 machine with ``shutil.which``;
  their long options occur in ``TOOL --help`` or in the program's binary and
  the libraries it links; ``rosey-*`` units given to systemctl/journalctl are
  units the project ships; ``rosey-*`` packages given to apt/dpkg are packages
  the project builds.

Anything else is reported as an unknown program.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import glob
import importlib.metadata
import io
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

SHELL_LANGS = {"sh", "bash", "shell", "console"}

# Program -> the Debian package that provides it on Debian 12.
STANDARD_TOOLS = {
    "apt-get": "apt",
    "apt-cache": "apt",
    "apt": "apt",
    "dpkg": "dpkg",
    "dpkg-query": "dpkg",
    "dpkg-deb": "dpkg",
    "debconf-set-selections": "debconf",
    "dpkg-reconfigure": "debconf",
    "systemctl": "systemd",
    "journalctl": "systemd",
    "systemd-analyze": "systemd",
    "zgrep": "gzip",
    "grep": "grep",
    "sed": "sed",
    "awk": "mawk",
    "sort": "coreutils",
    "head": "coreutils",
    "tail": "coreutils",
    "ls": "coreutils",
    "cat": "coreutils",
    "cp": "coreutils",
    "update-ca-certificates": "ca-certificates",
    "mv": "coreutils",
    "rm": "coreutils",
    "mkdir": "coreutils",
    "install": "coreutils",
    "chmod": "coreutils",
    "chown": "coreutils",
    "tee": "coreutils",
    "sha256sum": "coreutils",
    "base64": "coreutils",
    "date": "coreutils",
    "mktemp": "coreutils",
    "id": "coreutils",
    "ln": "coreutils",
    "stat": "coreutils",
    "wc": "coreutils",
    "cut": "coreutils",
    "tr": "coreutils",
    "editor": "nano (the editor alternative)",
    "curl": "curl",
    "gpg": "gpg",
    "ssh": "openssh-client",
    "ssh-keyscan": "openssh-client",
    "sqlite3": "sqlite3",
    "amtool": "prometheus-alertmanager",
    "promtool": "prometheus",
    "lintian": "lintian",
    "nginx": "nginx",
}
SHELL_BUILTINS = {
    ".",
    ":",
    "[",
    "alias",
    "cd",
    "echo",
    "exit",
    "export",
    "false",
    "printf",
    "read",
    "return",
    "set",
    "shift",
    "source",
    "test",
    "trap",
    "true",
    "type",
    "umask",
    "unset",
    "wait",
}
# Tools whose subcommands take their own flags: ask `TOOL SUB... --help`.
SUBCOMMAND_HELP = {"amtool", "promtool"}
KEYWORDS_BEFORE_COMMAND = {"if", "then", "else", "elif", "while", "until", "do", "!", "{", "}", "time"}
KEYWORDS_ALONE = {"fi", "done", "esac", "}", "{", "then", "else", "do"}
OPERATORS = {"|", "||", "&&", ";", "&", ";;", "(", ")", "|&"}
REDIRECTIONS = {"<", ">", ">>", "<<", "<<<", "<<-", ">&", "<&", "&>", ">|", "&>>"}
PROJECT_DIRS = ("repo/", "deploy/", "tests/", "benchmarks/", "packaging/", "src/", "docs/", "monitoring/", "systemd/")
PROJECT_DIRS += ("debian/", ".ci/", ".github/")
SUBST = "SUBSTITUTED"


@dataclass
class Command:
    doc: str  # file:line of the block
    text: str  # the logical line it came from
    argv: list[str]

    def __str__(self) -> str:
        return f"{self.doc}: {self.text}"


# --- extraction -------------------------------------------------------------


def fenced_blocks(markdown: str) -> list[tuple[int, str, str]]:
    """(line number of the opening fence, language, body) for every fenced block; indented fences too."""
    blocks = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(```+|~~~+)\s*([\w+-]*)", lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        start = i + 1
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        blocks.append((start, lang, "\n".join(body)))
        i += 1
    return blocks


def console_commands(body: str) -> str:
    """The `$ ` lines of a console transcript (with their continuations), prompt stripped."""
    out, cont = [], False
    for line in body.splitlines():
        if cont:
            out.append(line)
        elif line.startswith("$ "):
            out.append(line[2:])
        else:
            continue
        cont = line.rstrip().endswith("\\")
    return "\n".join(out)


def shell_text(lang: str, body: str) -> str | None:
    """The shell text of a block, or None when the block holds no commands (see the module docstring)."""
    if lang in ("sh", "bash", "shell"):
        return body
    if lang == "console":
        return console_commands(body)
    if lang:
        return None
    if any(line.startswith("$ ") for line in body.splitlines()):
        return console_commands(body)
    first = next((ln for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("#")), "")
    try:
        words = strip_assignments(shlex.split(first, comments=True))
    except ValueError:
        return None
    return body if words and is_known_program(words[0]) else None


def logical_lines(text: str) -> list[str]:
    """Join continuations and drop heredoc bodies."""
    raw = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(raw):
        line = raw[i]
        i += 1
        while i < len(raw) and (
            line.rstrip().endswith("\\") or re.search(r"(\|\||&&|\|)\s*(#.*)?$", _without_comment(line))
        ):
            if line.rstrip().endswith("\\"):
                line = line.rstrip()[:-1] + " " + raw[i].strip()
            else:
                line = _without_comment(line).rstrip() + " " + raw[i].strip()
            i += 1
        for m in re.finditer(r"<<(-?)\s*(['\"]?)(\w+)\2", line):
            dash, word = m.group(1), m.group(3)
            while i < len(raw) and (raw[i].strip() if dash else raw[i]) != word:
                i += 1
            i += 1  # the terminator
        if line.strip():
            out.append(line)
    return out


def _without_comment(line: str) -> str:
    """The line up to its comment: a # at the start of a word, outside quotes."""
    quote = None
    for j, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (j == 0 or line[j - 1].isspace()):
            return line[:j]
    return line


def extract_substitutions(line: str) -> tuple[str, list[str]]:
    """Replace $(...) and `...` by a placeholder word; return the line and the inner commands."""
    inner: list[str] = []
    out = []
    i, quote = 0, None
    while i < len(line):
        ch = line[i]
        if quote == "'":
            out.append(ch)
            if ch == "'":
                quote = None
            i += 1
            continue
        if ch == "\\" and i + 1 < len(line):
            out.append(line[i : i + 2])
            i += 2
            continue
        if ch == "'" and quote is None:
            quote = "'"
        elif ch == '"':
            quote = None if quote == '"' else '"'
        if line.startswith("$(", i) and not line.startswith("$((", i):
            depth, j, q = 1, i + 2, None
            while j < len(line) and depth:
                c = line[j]
                if q:
                    if c == q:
                        q = None
                elif c in "'\"":
                    q = c
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                j += 1
            inner.append(line[i + 2 : j - 1])
            out.append(SUBST)
            i = j
            continue
        if ch == "`":
            j = line.find("`", i + 1)
            if j > 0:
                inner.append(line[i + 1 : j])
                out.append(SUBST)
                i = j + 1
                continue
        out.append(ch)
        i += 1
    return "".join(out), inner


def split_commands(line: str) -> list[list[str]]:
    """Simple commands of one logical line (substitutions already replaced)."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
    lex.commenters = "#"
    lex.whitespace_split = True
    tokens = list(lex)
    commands, current = [], []
    skip_next = False
    for tok in tokens:
        if skip_next:
            skip_next = False
            continue
        if tok in OPERATORS:
            if current:
                commands.append(current)
            current = []
        elif tok in REDIRECTIONS:
            skip_next = True
            if current and current[-1].isdigit():
                current.pop()  # the fd of 2>file
        elif re.fullmatch(r"\d*[<>]+&?\d*-?", tok):
            skip_next = not re.search(r"&\d", tok)
        else:
            current.append(tok)
    if current:
        commands.append(current)
    return commands


def strip_assignments(words: list[str]) -> list[str]:
    i = 0
    while i < len(words) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[i]):
        i += 1
    return words[i:]


def unwrap(words: list[str]) -> list[str]:
    """Look through keywords, assignments and wrapper programs to the real program and its arguments."""
    while words:
        words = strip_assignments(words)
        if not words:
            return []
        w = words[0]
        if w in KEYWORDS_BEFORE_COMMAND:
            words = words[1:]
        elif w in ("for", "case", "function"):
            return []
        elif w in ("sudo", "nohup", "exec", "command"):
            words = [x for x in words[1:]]
            while words and words[0].startswith("-"):
                words = words[1:]
        elif w == "env":
            words = words[1:]
            while words and (words[0].startswith("-") or "=" in words[0]):
                words = words[1:]
        elif w == "timeout":
            words = words[1:]
            while words and words[0].startswith("-"):
                words = words[1:]
            words = words[1:]  # the duration
        elif w == "runuser":
            words = words[words.index("--") + 1 :] if "--" in words else []
        else:
            return words
    return []


PLACEHOLDER = re.compile(r"(?<=[\w./-])<[A-Za-z][\w.-]*>|<[A-Za-z][\w.-]*>(?=[\w./-])")


def commands_in(shell: str, where: str) -> list[Command]:
    found = []
    for line in logical_lines(shell):
        # A placeholder glued to a word (rosey-archive-keyring_<version>_all.deb) is not a redirection.
        pending = [PLACEHOLDER.sub("PLACEHOLDER", line)]
        while pending:
            text = pending.pop(0)
            replaced, inner = extract_substitutions(text)
            pending.extend(inner)
            for words in split_commands(replaced):
                argv = unwrap(words)
                if argv and argv[0] not in KEYWORDS_ALONE:
                    found.append(Command(where, text.strip(), argv))
    return found


def doc_commands(path: Path, rel: str | None = None) -> list[Command]:
    rel = rel or str(path.relative_to(ROOT))
    found = []
    for line, lang, body in fenced_blocks(path.read_text()):
        shell = shell_text(lang, body)
        if shell is not None:
            found.extend(commands_in(shell, f"{rel}:{line}"))
    return found


def blocks_of_section(path: Path, heading: str, lang: str = "sh") -> list[str]:
    """The bodies of the ```lang blocks under the Markdown heading ``heading`` (up to the next heading of its level)."""
    text = path.read_text()
    lines = text.splitlines()
    level = None
    start = end = None
    for i, line in enumerate(lines):
        m = re.match(r"^(#+)\s+(.*)$", line)
        if not m:
            continue
        if start is None and m.group(2).strip() == heading:
            level, start = len(m.group(1)), i + 1
        elif start is not None and len(m.group(1)) <= level:
            end = i
            break
    if start is None:
        raise LookupError(f"{path.name} has no section {heading!r}")
    section = "\n".join(lines[start:end])
    return [body for _, blang, body in fenced_blocks(section) if blang == lang]


# --- knowledge about the project ---------------------------------------------


@functools.cache
def console_scripts() -> dict[str, importlib.metadata.EntryPoint]:
    eps = importlib.metadata.distribution("rosey-bot").entry_points
    return {ep.name: ep for ep in eps if ep.group == "console_scripts"}


@functools.cache
def make_database() -> tuple[frozenset[str], str]:
    """(targets, Makefile text)."""
    proc = subprocess.run(
        ["make", "-pq", "-C", str(ROOT)], capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}
    )
    targets, not_target = set(), False
    for line in proc.stdout.splitlines():
        if line.startswith("# Not a target:"):
            not_target = True
            continue
        m = re.match(r"^([A-Za-z0-9_.\-/]+):(?!=)", line)
        if m:
            if not not_target and not m.group(1).startswith("."):
                targets.add(m.group(1))
            not_target = False
        elif not line.startswith("#"):
            not_target = False
    return frozenset(targets), (ROOT / "Makefile").read_text()


@functools.cache
def shipped_units() -> frozenset[str]:
    return frozenset(p.stem for p in (ROOT / "systemd").glob("*.service"))


@functools.cache
def built_packages() -> frozenset[str]:
    names = set()
    for control in (ROOT / "debian/control", ROOT / "repo/keyring/debian/control"):
        names |= set(re.findall(r"^Package:\s*(\S+)", control.read_text(), re.M))
    # The Debian-native flavour is named by stdeb's config, not debian/control.
    names |= set(re.findall(r"^Package3:\s*(\S+)", (ROOT / "stdeb.cfg").read_text(), re.M))
    return frozenset(names)


def project_program(name: str) -> str | None:
    """The console script a program word names (rosey-bot, /usr/bin/rosey-bot, .venv/bin/rosey-bot...)."""
    base = name.rsplit("/", 1)[-1]
    if base not in console_scripts():
        return None
    if "/" not in name or name in (f"/usr/bin/{base}", f"/opt/venvs/rosey-bot/bin/{base}", f".venv/bin/{base}"):
        return base
    return None


def is_known_program(word: str) -> bool:
    return bool(
        project_program(word)
        or word == "make"
        or word in STANDARD_TOOLS
        or word.startswith(".venv/bin/")
        or word.startswith(PROJECT_DIRS)
    )


# --- checks -------------------------------------------------------------------


class _Parsed(Exception):
    pass


def _parser_of(name: str, args: list[str], parse: bool) -> tuple[argparse.ArgumentParser | None, str, int | None]:
    """Run the program's main() until it calls parse_args, with its real parser; never further.

    Returns (parser, stderr, exit code if argparse exited)."""
    original = argparse.ArgumentParser.parse_args
    seen: list[argparse.ArgumentParser] = []

    def parse_only(self, args=None, namespace=None):
        seen.append(self)
        if parse:
            original(self, args, namespace)
        raise _Parsed

    err = io.StringIO()
    argparse.ArgumentParser.parse_args = parse_only
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            console_scripts()[name].load()(args)
    except _Parsed:
        return seen[0], err.getvalue(), None
    except SystemExit as exc:
        return (seen[0] if seen else None), err.getvalue(), exc.code if isinstance(exc.code, int) else 1
    finally:
        argparse.ArgumentParser.parse_args = original
    return None, err.getvalue(), None


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    opts = set(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                opts |= _option_strings(sub)
    return opts


def check_console_script(name: str, args: list[str], synopsis: bool = False) -> list[str]:
    """Parse ``args`` with the program's real argparse parser, without running the program.

    A usage synopsis (``[--opt VALUE]``) names metavariables, not values: there only the option
    names are checked against the parser."""
    parser, err, code = _parser_of(name, args, parse=not synopsis)
    if parser is None:
        return [f"{name}: its main() never parsed its arguments"]
    if synopsis:
        known = _option_strings(parser)
        return [f"{name} has no option {a}" for a in args if a.startswith("-") and a.split("=")[0] not in known]
    if code:
        last = err.strip().splitlines()[-1] if err.strip() else f"exit {code}"
        return [f"{name} rejects {shlex.join(args)!r}: {last}"]
    return []


def check_make(args: list[str]) -> list[str]:
    targets, makefile = make_database()
    problems = []
    it = iter(args)
    for a in it:
        if a in ("-C", "-f", "-j", "-l", "-o", "-W"):
            next(it, None)
        elif a.startswith("-"):
            continue
        elif "=" in a:
            var = a.split("=", 1)[0]
            v = re.escape(var)
            if not re.search(rf"\$[({{]{v}[)}}:]|origin {v}\b|\b{v}\s*[?:]?=", makefile):
                problems.append(f"make: variable {var} is not used by the Makefile")
        elif a not in targets:
            problems.append(f"make: no target {a!r}")
        else:
            problems += _recipe_paths(a, makefile)
    return problems


def _recipe_paths(target: str, makefile: str) -> list[str]:
    """Project scripts and playbooks a target's recipe names must exist."""
    m = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n?)*)", makefile, re.M)
    recipe = m.group(1) if m else ""
    problems = []
    for path in re.findall(r"(?<![\w/.$])((?:repo|deploy|packaging|tests|benchmarks)/[\w./-]+\.(?:sh|yml|py))", recipe):
        if not (ROOT / path).exists():
            problems.append(f"make {target}: its recipe runs {path}, which does not exist")
    return problems


def check_project_path_args(args: list[str]) -> list[str]:
    problems = []
    for a in args:
        a = a.split("::", 1)[0]
        if a.startswith(PROJECT_DIRS) and not glob.glob(str(ROOT / a)):
            problems.append(f"{a} does not exist in the project")
    return problems


def check_script(path: str, args: list[str]) -> list[str]:
    f = ROOT / path
    if not f.is_file():
        return [f"{path} does not exist in the project"]
    if not os.access(f, os.X_OK):
        return [f"{path} is not executable"]
    return _options_in_source(path, f, args) + check_project_path_args(args)


def _options_in_source(label: str, f: Path, args: list[str]) -> list[str]:
    text = f.read_text()
    return [
        f"{label} has no option {opt}"
        for opt in (a.split("=", 1)[0] for a in args if a.startswith("--") and len(a) > 2)
        if not re.search(rf"{re.escape(opt)}(?![\w-])", text)
    ]


def check_venv_program(prog: str, args: list[str]) -> list[str]:
    base = prog.rsplit("/", 1)[-1]
    if not (ROOT / prog).exists():
        return [f"{prog} does not exist (run `make venv`)"]
    if base in ("python", "python3"):
        files = [a for a in args if not a.startswith("-")]
        if files and files[0].endswith(".py"):
            if not (ROOT / files[0]).is_file():
                return [f"{files[0]} does not exist in the project"]
            return _options_in_source(files[0], ROOT / files[0], args[args.index(files[0]) + 1 :])
        return []
    return check_project_path_args(args)


@functools.cache
def tool_help(argv: tuple[str, ...]) -> str:
    try:
        proc = subprocess.run(
            [*argv, "--help"],
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C", "SYSTEMD_PAGER": "", "PAGER": "cat"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout + proc.stderr


@functools.cache
def binary_bytes(path: str) -> bytes:
    """The program file and every shared library it links."""
    data = Path(path).read_bytes()
    proc = subprocess.run(["ldd", path], capture_output=True, text=True)
    for lib in re.findall(r"=> (/\S+)", proc.stdout):
        data += b"\0" + Path(lib).read_bytes()
    return data


SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def which(tool: str) -> str | None:
    """The tool on this Debian 12 machine, else in a bookworm rootfs holding its Debian package
    (tests/support/container.py's cached rootfs, as the container tests use it)."""
    found = shutil.which(tool, path=os.environ.get("PATH", "") + ":" + SYSTEM_PATH)
    if found:
        return found
    package = STANDARD_TOOLS.get(tool, "").split(" ")[0]
    if not package or os.geteuid() != 0:
        return None
    from tests.support import container

    root = container.rootfs((package,))
    for d in SYSTEM_PATH.split(":"):
        candidate = root / d.lstrip("/") / tool
        # an alternatives symlink (editor -> /etc/alternatives/...) points into the rootfs, not here
        if candidate.is_symlink() or (candidate.exists() and os.access(candidate, os.X_OK)):
            return str(candidate)
    return None


def check_standard_tool(tool: str, args: list[str]) -> list[str]:
    path = which(tool)
    if not path:
        return [f"{tool} is not installed here (Debian package {STANDARD_TOOLS[tool]})"]
    problems = []
    words = [a for a in args if not a.startswith("-")]
    help_argv = (tool,)
    if tool in SUBCOMMAND_HELP:
        lead = []
        for a in args:
            if a.startswith("-") or "=" in a:
                break
            lead.append(a)
        help_argv = (tool, *lead)
    for opt in {a.split("=", 1)[0] for a in args if a.startswith("--") and len(a) > 2}:
        name = opt[2:]
        if re.search(rf"{re.escape(opt)}(?![\w-])", tool_help(help_argv)):
            continue
        if re.search(rb"(?<![\w-])" + re.escape(name.encode()) + rb"(?![\w-])", binary_bytes(path)):
            continue
        problems.append(f"{tool} has no option {opt}")
    if tool in ("systemctl", "journalctl"):
        units = [a for a in args if a.startswith("rosey-")]
        if tool == "journalctl":
            units = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-u", "--unit")]
        for unit in units:
            name = unit.removesuffix(".service")
            if name.startswith("rosey-") and name not in shipped_units():
                problems.append(f"{tool}: the project ships no unit {unit}")
        if tool == "systemctl" and words and words[0] not in tool_help(("systemctl",)):
            problems.append(f"systemctl has no command {words[0]!r}")
    if tool in ("apt-get", "apt-cache", "apt", "dpkg", "dpkg-query"):
        for w in words:
            if w.endswith(".deb"):
                continue  # a package file
            pkg = w.split("=", 1)[0].split(":", 1)[0]
            if pkg.startswith("rosey-") and pkg not in built_packages():
                problems.append(f"{tool}: the project builds no package {pkg}")
        if tool in ("apt-get", "apt-cache") and words and words[0] not in tool_help((tool,)):
            problems.append(f"{tool} has no command {words[0]!r}")
    return problems + check_project_path_args(args)


def check_command(cmd: Command) -> list[str]:
    prog = cmd.argv[0]
    synopsis = prog != "[" and any(a.startswith("[") for a in cmd.argv[1:])
    args = [a.strip("[]") if synopsis else a for a in cmd.argv[1:]]
    args = [a for a in args if a and a != "|"]
    if prog in SHELL_BUILTINS:
        problems = []
    elif script := project_program(prog):
        problems = check_console_script(script, args, synopsis)
    elif prog == "make":
        problems = check_make(args)
    elif prog.startswith(".venv/bin/"):
        problems = check_venv_program(prog, args)
    elif "/" in prog and not prog.startswith("/"):
        problems = check_script(prog, args)
    elif prog in STANDARD_TOOLS:
        problems = check_standard_tool(prog, args)
    elif prog.startswith("/") and prog.rsplit("/", 1)[-1] in STANDARD_TOOLS:
        tool = prog.rsplit("/", 1)[-1]
        found = which(tool)
        problems = check_standard_tool(tool, args) if found and Path(found).resolve() == Path(prog).resolve() else []
        if not problems and not (found and Path(found).resolve() == Path(prog).resolve()):
            problems = [f"{prog}: not where Debian installs {tool} ({found})"]
    else:
        problems = [f"unknown program {prog!r}: not a project program, script or allowlisted standard tool"]
    return [f"{cmd}\n    -> {p}" for p in problems]


def check_docs(paths: list[Path] | None = None) -> tuple[list[Command], list[str]]:
    commands = [c for p in paths or DOCS for c in doc_commands(p)]
    problems = [p for c in commands for p in check_command(c)]
    return commands, problems
