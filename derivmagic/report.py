"""A whole derivation as LaTeX (an ``aligned`` block) and as readable text:
interpretation, steps, result with its shape and layout, numeric check."""
from __future__ import annotations

from .expr import SCALAR, Sym
from .render import shape_tex, to_latex, to_text


def _space_tex(s: Sym) -> str:
    r, c = s.shape
    if "spd" in s.props:
        return rf"\mathbb{{S}}^{{{r}}}_{{++}}"
    if s.symmetric:
        return rf"\mathbb{{S}}^{{{r}}}"
    if (r, c) == SCALAR:
        return r"\mathbb{R}"
    if c == 1:
        return rf"\mathbb{{R}}^{{{r}}}"
    return rf"\mathbb{{R}}^{{{shape_tex(s.shape)}}}"


def _space_text(s: Sym) -> str:
    r, c = s.shape
    if "spd" in s.props:
        return f"𝕊^{r}_++ (positive definite)"
    if s.symmetric:
        return f"𝕊^{r} (symmetric)"
    if (r, c) == SCALAR:
        return "ℝ"
    if c == 1:
        return f"ℝ^{r}"
    return f"ℝ^({r}×{c})"


def interpretation_latex(d) -> str:
    parts = [rf"{s.tex} \in {_space_tex(s)}" for s in d.reading.symbols.values()]
    return r",\ ".join(parts)


def interpretation_text(d) -> str:
    parts = [f"{to_text(s)} ∈ {_space_text(s)}" for s in d.reading.symbols.values()]
    notes = "; ".join(d.reading.notes)
    return ", ".join(parts) + (f"; {notes}" if notes else "")


def target_latex(d) -> str:
    a = d.answer
    x = a.var.tex
    f = to_latex(a.function)
    if a.kind == "gradient":
        return rf"\nabla_{{{x}}} \left({f}\right)" if not isinstance(a.function, Sym) else rf"\nabla_{{{x}}} {f}"
    if a.kind == "hessian":
        return rf"\nabla^2_{{{x}}} \left({f}\right)"
    if a.kind == "directional":
        return rf"\mathrm{{D}}\left[{f}\right][{to_latex(a.dsym)}]"
    return rf"\frac{{\partial}}{{\partial {x}}} \left({f}\right)"


def target_text(d) -> str:
    a = d.answer
    x, f = to_text(a.var), to_text(a.function)
    return {"gradient": f"∇_{x} {f}", "hessian": f"∇²_{x} {f}", "directional": f"D[{f}][{to_text(a.dsym)}]"}.get(
        a.kind, f"∂/∂{x} ({f})")


def derivation_latex(d) -> str:
    rows = [rf"&\text{{reading: }} {interpretation_latex(d)}"]
    for step in d.steps:
        rows.append(step.latex)
    rows.append(rf"{target_latex(d)} &= \boxed{{{to_latex(d.answer.result)}}} && \text{{{_plain(d.answer.description)}}}")
    if d.check is not None:
        rows.append(rf"&\text{{{_plain(d.check.summary)}}}")
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def derivation_text(d) -> str:
    lines = [f"reading: {interpretation_text(d)}"]
    for i, step in enumerate(d.steps, 1):
        lines.append(f"  {i}. {step.text}")
    lines.append(f"{target_text(d)} = {to_text(d.answer.result)}    [{d.answer.description}]")
    if d.check is not None:
        lines.append(f"check: {d.check.summary}")
    return "\n".join(lines)


def _plain(s: str) -> str:
    """Text safe inside \\text{...}: no characters KaTeX or MathJax would reject there."""
    table = {"×": r"$\times$", "ᵀ": "^T", "∇": r"$\nabla$", "✓": r"$\checkmark$", "✗": r"$\times$",
             "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "{": r"\{", "}": r"\}", "′": "'", "⟩": "", "⟨": ""}
    return "".join(table.get(ch, ch) for ch in s)


def _step_lhs(step, latex: bool) -> str:
    node = to_latex(step.node) if latex else to_text(step.node)
    if latex:
        return rf"\mathrm{{d}}{node}" if isinstance(step.node, Sym) else rf"\mathrm{{d}}\left({node}\right)"
    return f"d{node}" if isinstance(step.node, Sym) else f"d({node})"


def step_latex(step) -> str:
    label = rf"\text{{{_plain(step.rule)}}}"
    if step.shapes:
        label += r"\ " + shape_latex_annotation(step.shapes)
    return rf"{_step_lhs(step, True)} &= {to_latex(step.differential)} && {label}"


def step_text(step) -> str:
    shapes = f"  [{step.shapes}]" if step.shapes else ""
    return f"{_step_lhs(step, False)} = {to_text(step.differential)}    ({step.rule}){shapes}"


def shape_latex_annotation(shapes: str) -> str:
    return r"\scriptstyle " + shapes.replace("×", r"{\times}")
