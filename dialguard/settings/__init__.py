"""One module of settings per feature (a frozen dataclass per ``[section]``), and the one error a
bad value raises. Nothing here imports a feature: :mod:`dialguard.config` composes the sections
into ``Settings`` and loads them; the features import their own section from here."""
