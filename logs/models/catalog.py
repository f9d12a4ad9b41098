from django.db import models

from logs.choices import BillingMode, Family
from logs.money import money_field


class PriceRow(models.Model):
    """A dated price: the row in force at a call's time prices it (billing.md).

    A row names a family or an exact model ID; a row with no route applies to every route,
    one naming the route wins. Dates are days in the billing time zone, `valid_to` included.
    """

    family = models.CharField(max_length=16, choices=Family.choices, blank=True)
    model = models.CharField(max_length=128, blank=True, help_text="Exact model ID; wins over family.")
    route = models.CharField(max_length=64, blank=True)
    billing_mode = models.CharField(max_length=16, choices=BillingMode.choices)
    per_request_usd = money_field(null=True, blank=True)
    input_per_m_usd = money_field(null=True, blank=True)
    output_image_per_m_usd = money_field(null=True, blank=True)
    output_text_per_m_usd = money_field(null=True, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["family", "model", "route", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(family="", model=""), name="pricerow_family_or_model"
            ),
        ]

    def __str__(self):
        who = self.model or self.get_family_display()
        return f"{who} {self.route or 'any route'} {self.billing_mode} from {self.valid_from}"
