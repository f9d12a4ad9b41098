"""Template tags of the dashboard: the customer switch in the top bar."""
from django import template

from logs.forms.dashboard import CustomerSwitchForm
from logs.scoping import SESSION_KEY, is_staff, visible_customers

register = template.Library()


@register.inclusion_tag("logs/_customer_switch_form.html", takes_context=True)
def customer_switch(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not is_staff(user):
        own = getattr(user, "customer", None) if user is not None and user.is_authenticated else None
        return {"staff": False, "own": own}
    picked = request.session.get(SESSION_KEY)
    form = CustomerSwitchForm(initial={"customer": str(picked) if picked else "",
                                       "next": request.get_full_path()},
                              customers=visible_customers(user).only("pk", "slug", "name"))
    return {"staff": True, "form": form, "request": request}
