"""The README stays true: its example answers, settings table and scenario list are what the code says."""

from __future__ import annotations

from tests.readme_examples import EXAMPLES, README, blocks, generated_sections, render, run


def test_the_readme_starts_with_the_two_commands() -> None:
    head = README.read_text()[:1500]
    assert "make run" in head and "make test" in head


async def test_every_example_answer_in_the_readme_is_what_the_gateway_answers() -> None:
    found = blocks(README.read_text())
    for example in EXAMPLES:
        assert f"example:{example.name}" in found, f"README lost the {example.name} example"
        expected = render(example, await run(example))
        assert found[f"example:{example.name}"] == expected, (
            f"README example {example.name!r} drifted: run `.venv/bin/python -m tests.readme_examples`")


def test_the_settings_table_and_scenario_list_are_generated_from_the_code() -> None:
    found = blocks(README.read_text())
    for name, body in generated_sections().items():
        assert found.get(name) == body, (
            f"README section {name!r} drifted: run `.venv/bin/python -m tests.readme_examples`")


def test_the_reference_page_queries_in_the_readme_are_the_ones_it_sends() -> None:
    from tests.web.queries import README_BLOCK, readme_block

    assert blocks(README.read_text()).get(README_BLOCK) == readme_block(), (
        "README's reference page queries drifted from src/gateway/web/queries.js: "
        "run `.venv/bin/python -m tests.web.queries`")
