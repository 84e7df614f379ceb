"""The person in a call, as both ends know it: the face shape model (``shape``), the face
track and its bits (``track``), the reference picture and its chunks (``reference``) and the
payload parts they travel in (``parts``). The sender measures (``sender.portrait``), the
receiver reenacts (``receiver.reenact``)."""
