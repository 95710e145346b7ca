"""autoforecast: forecasting with recurrent cells found by architecture search."""

__version__ = "0.1.0"
