"""borderflow: forecasting and monitoring migrant flows through border crises."""

__version__ = "0.1.0"
