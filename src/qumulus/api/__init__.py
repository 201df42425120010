"""The REST API: IonQ's v0.4 (and v0.3) wire shapes. The only layer that knows them."""
