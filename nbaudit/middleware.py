"""Content-Security-Policy on every response.

Our own few lines rather than django-csp: the policy is one fixed string (no nonces, no
per-view changes, since no page has an inline script), so a dependency would add a settings
format and nothing else.
"""
from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.NBAUDIT_CSP
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
