"""Payment providers: the test checkout built into Salon, and Stripe."""

from __future__ import annotations

from salon.config import Settings
from salon.payments.provider import PaymentProvider


def make_provider(settings: Settings) -> PaymentProvider:
    """The provider the operator chose (SALON_PAYMENT_PROVIDER)."""
    if settings.payment_provider == "stripe":
        from salon.payments.stripe_provider import StripeProvider

        return StripeProvider(
            secret_key=settings.stripe_secret_key,
            webhook_secret=settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
        )
    from salon.payments.testmode import TestModeProvider

    return TestModeProvider()
