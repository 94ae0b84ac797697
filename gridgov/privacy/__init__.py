"""Personal-data governance (个人信息保护法, GB/T 35273): the register of every field that holds
personal data, with its purpose, sensitivity class and retention."""
