"""Tests of openplate.resource_server against real Openplate servers."""
