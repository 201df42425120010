"""The API's JSON: IonQ's v0.4 (and v0.3) shapes, and ours in the same style.

Domain objects and ``qumulus.domain`` values in, JSON-ready dicts out (``jobs``, ``backends``,
``sessions``, ``tenancy``, ``billing``, ``results``), and request bodies in, ``JobSpec`` out
(``requests``). Below ``api``, ``console`` and ``notifications``, which all render through it; above
``domain`` and ``store``. The domain never imports it.
"""
