import pytest

import instructrec_peft as ir
from instructrec_peft import TemplateError, templates
from instructrec_peft.instructions.templates import (
    INTENTIONS,
    PREFERENCES,
    TASKS,
    Template,
    get_template,
    register_template,
)

HISTORY = [f"Movie number {i} (19{i:02d})" for i in range(30)]
CANDIDATES = ["Alien (1979)", "Heat (1995)", "Fargo (1996)", "Up (2009)"]
VALUES = dict(preference="I like Crime movies.", intention="a Crime, Thriller movie", item="Heat (1995)",
              item_a="Heat (1995)", item_b="Up (2009)", answer="Yes", choice="Heat (1995)", target="Heat (1995)",
              label="B")


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(templates, "TEMPLATES", dict(templates.TEMPLATES))


def test_registry_covers_the_taxonomy():
    every = ir.templates.all()
    assert len(every) >= 39
    assert {t.preference for t in every} == set(PREFERENCES)
    assert {t.intention for t in every} == set(INTENTIONS)
    assert {t.task for t in every} == set(TASKS)
    combos = {(t.preference, t.intention, t.task) for t in every}
    sensible = {(p, i, t) for p in PREFERENCES for i in INTENTIONS for t in TASKS if (p, i) != ("P0", "I0")}
    assert combos == sensible  # every combination but "no preference and no intention"
    assert all(t.source == "builtin" for t in every)
    assert templates.BUILTIN_VERSION == "1"


@pytest.mark.parametrize("template", ir.templates.all(), ids=lambda t: t.name)
def test_every_builtin_template_renders_within_budget(template):
    budget = 60 + (25 if template.task == "reranking" else 0)
    rendered = template.render(vocabulary="movie", history=HISTORY, candidates=CANDIDATES, count_tokens=words,
                               max_prompt_tokens=budget, **VALUES)
    assert words(rendered.prompt) <= budget
    assert "{" not in rendered.prompt and "}" not in rendered.prompt
    if "history" in template.fields:
        assert 1 <= rendered.history_used < len(HISTORY)
        kept = HISTORY[-rendered.history_used:]
        # Oldest dropped first: exactly the newest items are in the prompt, in order.
        assert '"' + '", "'.join(kept) + '"' in rendered.prompt
        assert f'"{HISTORY[-rendered.history_used - 1]}"' not in rendered.prompt
        one_more = template.render(vocabulary="movie", history=HISTORY[-rendered.history_used - 1:], **VALUES,
                                   candidates=CANDIDATES)
        assert words(one_more.prompt) > budget  # the budget was filled, not merely respected
    if template.intention != "I0":
        assert VALUES["intention"] in rendered.prompt
    if template.task == "reranking":
        assert "A. Alien (1979)\nB. Heat (1995)\nC. Fargo (1996)\nD. Up (2009)" in rendered.prompt
    assert rendered.completion == {"answer": "Yes", "choice": "Heat (1995)", "target": "Heat (1995)",
                                   "label": "B"}[template.response_field]


def test_render_example_and_vocabulary():
    t = get_template("p1-i0-pointwise-1")
    rendered = t.render(vocabulary="product", history=["Kettle", "Mug"], item="Teapot", answer="No")
    assert rendered.prompt == ('The user bought these products, oldest first: "Kettle", "Mug". Is it likely that '
                               "the user will buy Teapot next? Answer Yes or No.")
    assert (rendered.completion, rendered.history_used) == ("No", 2)
    rendered = t.render(vocabulary="movie", history=["A", "B", "C"], item="D", answer="Yes", max_history_items=2)
    assert rendered.prompt.startswith('The user watched these movies, oldest first: "B", "C".')


def test_budget_never_cuts_instruction_or_candidates():
    t = get_template("p1-i0-reranking-1")
    with pytest.raises(TemplateError) as err:
        t.render(vocabulary="movie", history=HISTORY, candidates=CANDIDATES, target="Heat (1995)",
                 count_tokens=words, max_prompt_tokens=20)
    assert str(err.value) == ("template 'p1-i0-reranking-1': even with 1 history item(s) the prompt needs 33 tokens, "
                              "over the budget of 20; the instruction, intention and candidates are never cut: raise "
                              "the budget or shorten them")


def test_render_errors():
    with pytest.raises(TemplateError, match="template 'p1-i0-reranking-1': the candidate list is empty"):
        get_template("p1-i0-reranking-1").render(vocabulary="movie", history=["A"], target="B")
    with pytest.raises(TemplateError, match=r"no value given for \{answer\}, \{item\}"):
        get_template("p1-i0-pointwise-1").render(vocabulary="movie", history=["A"])
    with pytest.raises(TemplateError, match="is P1 \\(implicit preference\\) but the history is empty"):
        get_template("p1-i0-matching-1").render(vocabulary="movie", history=[], target="B")
    with pytest.raises(ValueError, match="unknown vocabulary 'music'"):
        get_template("p1-i0-matching-1").render(vocabulary="music", history=["A"], target="B")


GOOD = dict(name="my-template", preference="P1", intention="I0", task="matching",
            prompt="The user {past} {history}. Next {noun}?", response="{target}")


@pytest.mark.parametrize("change, message", [
    ({"prompt": "The user {past} {histroy}. Next?"},
     "template 'my-template': unknown placeholder(s) {histroy} in the prompt"),
    ({"prompt": "The user {past} {history.__class__}."},
     "placeholder {history.__class__} in 'The user {past} {history.__class__}.' is not a bare name"),
    ({"prompt": "The user {past} {history[0]}."},
     "placeholder {history[0]} in 'The user {past} {history[0]}.' is not a bare name"),
    ({"prompt": "The user {past} {history!r}."}, "may not carry a conversion or format spec"),
    ({"prompt": "The user {past} {history."}, "malformed format string"),
    ({"response": ""},
     "template 'my-template': the response part is missing; a matching template answers with {target}"),
    ({"response": "{answer}"}, "the response must contain exactly one of {target}, found {answer}"),
    ({"prompt": "Next {noun}?"}, "a P1/I0/matching prompt must contain {history}"),
    ({"prompt": "The user {past} {history} and wants {intention}."},
     "{intention} does not belong in a P1/I0/matching prompt"),
    ({"prompt": "The user {past} {history}. Is {item} next?"}, "{item} does not belong in a P1/I0/matching prompt"),
    ({"task": "ranking"}, "template 'my-template': task 'ranking' is not one of"),
    ({"preference": "P3"}, "preference 'P3' is not one of"),
    ({"name": " padded "}, "must be a non-empty string without surrounding spaces"),
])
def test_malformed_templates_are_refused(scratch_registry, change, message):
    with pytest.raises(TemplateError) as err:
        register_template({**GOOD, **change})
    assert message in str(err.value)
    assert "my-template" not in templates.TEMPLATES


def test_register_get_and_duplicates(scratch_registry):
    template = register_template(GOOD)
    assert get_template("my-template") is template and template.source == "user"
    with pytest.raises(TemplateError, match="template 'my-template' is already registered"):
        register_template(GOOD)
    replaced = register_template({**GOOD, "prompt": "After {history}, which {noun}?"}, overwrite=True)
    assert get_template("my-template") is replaced
    with pytest.raises(TemplateError, match="unknown field\\(s\\) \\['wording'\\]"):
        register_template({**GOOD, "name": "other", "wording": "x"})


def test_unknown_template_name_suggests():
    with pytest.raises(TemplateError) as err:
        get_template("p1-i0-matchin-1")
    assert "unknown template 'p1-i0-matchin-1'; did you mean p1-i0-matching-1" in str(err.value)


def test_select_by_aspect():
    selected = templates.select(preference="P0", intention="I2", task=["matching", "reranking"])
    assert [t.name for t in selected] == ["p0-i2-matching-1", "p0-i2-matching-2", "p0-i2-reranking-1"]
    assert len(templates.select(task="pointwise")) == 10
    with pytest.raises(TemplateError, match="unknown task level"):
        templates.select(task="listwise")


def test_template_is_data_not_code():
    t = Template(**{**GOOD, "name": "x"})
    rendered = t.render(vocabulary="movie", history=["{noun.__class__}"], target="{0}")
    assert rendered.prompt == 'The user watched "{noun.__class__}". Next movie?'
    assert rendered.completion == "{0}"
