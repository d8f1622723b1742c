"""appdb"""
