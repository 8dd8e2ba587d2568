"""Wrap the visible text of page templates in {% trans %} and visible attributes (title, placeholder,
aria-label, alt) in _(), with named placeholders bound to the expressions they show.

    python scripts/i18n_wrap_templates.py src/dragonnet/web/templates/*.html   # then review the diff, make extract

What dragonnet's templates were converted with (issue 17). Idempotent: text already inside {% trans %} and
attributes already calling _() are left alone, so it can be run again after a merge brings new English text.
It is a helper, not a judge: review its diff (a class name in a {% block %}, a code in <span class="code">,
a sentence split by {% if %} are for a person to fix), then `make extract`.
"""

import re
import sys
from pathlib import Path

TOKEN = re.compile(
    r"({#.*?#}|{%.*?%}|{{.*?}}|<!--.*?-->|<(?:script|style)\b.*?</(?:script|style)>|<(?:[^>{]|{{.*?}}|{%.*?%}|{(?![{%]))*>)",
    re.S,
)
INLINE = {"a", "strong", "em", "code", "b", "i", "abbr", "kbd", "br", "small", "q", "span"}
ATTRS = ("title", "placeholder", "aria-label", "alt", "data-confirm", "summary")
RESERVED = {
    "_",
    "gettext",
    "ngettext",
    "trans",
    "pluralize",
    "endtrans",
    "loop",
    "self",
    "true",
    "false",
    "none",
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "for",
}
CODE_TAG = re.compile(r"<\w+[^>]*\bclass=\"(code|[^\"]* code)\b")
LETTER = re.compile(r"[A-Za-z]{2,}")
SKIP_TEXT = {"dragonnet", "API", "CSV", "XLSX", "PDF", "JSON", "HTML", "ISO", "OK"}


def expr_of(tok: str) -> str:
    return tok[2:-2].strip().strip("-").strip()


def name_for(expr: str, used: dict[str, str]) -> str:
    base = expr.split("|")[0].strip()
    filters = [f.strip().split("(")[0] for f in expr.split("|")[1:]]
    if "length" in filters or "count" in filters:
        cand = "count"
    elif re.fullmatch(r"[A-Za-z_][\w.]*", base):
        cand = base.split(".")[-1]
    else:
        m = re.search(r"\.get\(\s*['\"](\w+)['\"]", base)
        cand = m.group(1) if m else "value"
    cand = cand.lstrip("_") or "value"
    if cand.lower() in RESERVED:
        cand = cand + "_value"
    name = cand
    i = 2
    while name in used and used[name] != expr:
        name = f"{cand}{i}"
        i += 1
    used[name] = expr
    return name


def tag_name(tok: str) -> str | None:
    m = re.match(r"</?\s*([a-zA-Z0-9]+)", tok)
    return m.group(1).lower() if m else None


def is_inline_tag(tok: str) -> bool:
    if not tok.startswith("<") or tok.startswith("<!--"):
        return False
    if "{%" in tok:
        return False
    return tag_name(tok) in INLINE


def visible(text: str) -> bool:
    letters = LETTER.findall(re.sub(r"&#?\w+;", "", text))  # entities (&middot;, &lt;) are not words
    return bool(letters) and not all(w in SKIP_TEXT for w in letters)


def balanced(parts: list[str]) -> bool:
    stack: list[str] = []
    for p in parts:
        if p.startswith("<"):
            t = tag_name(p)
            if t == "br" or p.endswith("/>"):
                continue
            if p.startswith("</"):
                if not stack or stack[-1] != t:
                    return False
                stack.pop()
            else:
                stack.append(t or "")
    return not stack


def wrap_run(parts: list[str]) -> str:
    """parts: text, {{ }} and inline-tag tokens. Return the run with its text wrapped."""
    text_only = "".join(p for p in parts if not p.startswith("{{") and not p.startswith("<"))
    if not visible(text_only):
        return "".join(parts)
    # Edges: whitespace, expressions and tags at the ends stay outside.
    lead, trail = [], []
    while parts and (parts[0].startswith("<") or parts[0].startswith("{{") or not parts[0].strip()):
        lead.append(parts.pop(0))
    while parts and (parts[-1].startswith("<") or parts[-1].startswith("{{") or not parts[-1].strip()):
        trail.insert(0, parts.pop())
    if not parts:
        return "".join(lead + trail)
    # Keep edge tags with their pair: if the inside is unbalanced, split at every tag instead.
    if not balanced(parts):
        out, chunk = [], []
        for p in lead + parts + trail:
            if p.startswith("<"):
                out.append(wrap_run(chunk) if chunk else "")
                out.append(p)
                chunk = []
            else:
                chunk.append(p)
        out.append(wrap_run(chunk) if chunk else "")
        return "".join(out)
    # Leading/trailing whitespace of the first/last text part stays outside.
    first, last = parts[0], parts[-1]
    ws_lead = first[: len(first) - len(first.lstrip())]
    parts[0] = first.lstrip()
    if len(parts) == 1:
        stripped = parts[0].rstrip()
        ws_trail = parts[0][len(stripped) :]
        parts[0] = stripped
    else:
        stripped = last.rstrip()
        ws_trail = last[len(stripped) :]
        parts[-1] = stripped
    used: dict[str, str] = {}
    body = []
    for p in parts:
        if p.startswith("{{"):
            e = expr_of(p)
            n = name_for(e, used)
            body.append(f"{{{{ {n} }}}}")
        elif p.startswith("<"):
            body.append(re.sub(r"{{.*?}}", lambda m: f"{{{{ {name_for(expr_of(m.group(0)), used)} }}}}", p))
        else:
            body.append(p)
    binds = ", ".join(f"{n}={e}" if n != e else n for n, e in used.items())
    head = "{% trans " + binds + " %}" if binds else "{% trans %}"
    return "".join(lead) + ws_lead + head + "".join(body) + "{% endtrans %}" + ws_trail + "".join(trail)


def wrap_attrs(tag: str) -> str:
    def repl(m: re.Match[str]) -> str:
        attr, q, val = m.group(1), m.group(2), m.group(3)
        if "{%" in val or "_(" in val or not visible(re.sub(r"{{.*?}}", "", val)):
            return m.group(0)
        used: dict[str, str] = {}
        msg = re.sub(r"{{.*?}}", lambda mm: f"%({name_for(expr_of(mm.group(0)), used)})s", val)
        other = "'" if q == '"' else '"'
        if other in msg:
            return m.group(0)
        args = "".join(f", {n}={e}" for n, e in used.items())
        return f"{attr}={q}{{{{ _({other}{msg}{other}{args}) }}}}{q}"

    return re.sub(rf"\b({'|'.join(ATTRS)})=([\"'])(.*?)\2", repl, tag, flags=re.S)


def convert(src: str) -> str:
    tokens = [t for t in TOKEN.split(src) if t != ""]
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(wrap_run(list(run)))
            run.clear()

    inside_trans = False
    for t in tokens:
        if inside_trans:  # already translated: copied as it is
            out.append(t)
            inside_trans = not re.match(r"{%-?\s*endtrans", t)
            continue
        if re.match(r"{%-?\s*trans\b", t):
            flush()
            out.append(t)
            inside_trans = True
            continue
        if out and re.match(r"{%-?\s*block\s+\w*class\s*-?%}", out[-1]) and not t.startswith(("{", "<")):
            out.append(t)  # a CSS class list, not text
        elif CODE_TAG.match((run or out or [""])[-1]) and not t.startswith(("{", "<")):
            flush()
            out.append(t)  # an identifier shown as code (a column, a value of the format), not text
        elif t.startswith("{{"):
            run.append(t)
        elif t.startswith(("{%", "{#", "<!--", "<script", "<style")):
            flush()
            out.append(t)
        elif t.startswith("<"):
            t2 = wrap_attrs(t)
            if is_inline_tag(t):
                run.append(t2)
            else:
                flush()
                out.append(t2)
        else:
            run.append(t)
    flush()
    return "".join(out)


if __name__ == "__main__":
    for f in sys.argv[1:]:
        p = Path(f)
        p.write_text(convert(p.read_text()))
