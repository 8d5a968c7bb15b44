"""The versioned REST API (``/api/v1/``) for IVR and kiosk vendors, SSO portals and Harris inHance.

Modules: ``keys`` (key services), ``auth`` (authentication and scope permissions), ``throttling``,
``base`` (the logged base view), ``serializers``, one view module per area (``accounts``, ``payments``,
``sso``, ``inhance``), ``payers`` and ``downloads`` (their services), ``docs`` (schema and Swagger UI),
``urls``.
"""
