"""System checks: the vocabulary is explained in full. Every status has a definition (and
an example) in ``vocabulary.STATUS_DEFINITIONS``, every flag reason one in
``vocabulary.FLAG_DEFINITIONS``, so a status or a flag cannot be added without the
methodology page saying what it means. ``manage.py check`` (and so ``runserver``,
``migrate`` and the test run) fails with ``commitments.E001`` / ``E002`` until it is written.

Registered in ``apps.py``. Reads the vocabulary only.
"""

from __future__ import annotations

from django.core.checks import Error, register

from . import vocabulary


def missing_definitions(choices, definitions) -> list[str]:
    """The values of ``choices`` with no entry, or an empty one, in ``definitions``."""
    return [
        value
        for value in choices.values
        if not (entry := definitions.get(value))
        or not str(entry.definition).strip()
        or not str(entry.example).strip()
    ]


@register()
def vocabulary_is_defined(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    for code, choices, name in (
        ("commitments.E001", vocabulary.Status, "STATUS_DEFINITIONS"),
        ("commitments.E002", vocabulary.FlagReason, "FLAG_DEFINITIONS"),
    ):
        for value in missing_definitions(choices, getattr(vocabulary, name)):
            errors.append(
                Error(
                    f"{choices.__name__} {value!r} has no definition and example.",
                    hint=f"Add it to commitments.vocabulary.{name}: the methodology page "
                    "explains every one.",
                    id=code,
                )
            )
    return errors
