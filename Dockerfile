FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mlcore ./mlcore
COPY console ./console
RUN pip install '.[prod]'
COPY . .
RUN AML_DATA_DIR=/tmp/build SECRET_KEY=build python manage.py collectstatic --noinput
EXPOSE 8000
# workers, threads, timeouts: gunicorn.conf.py
CMD ["gunicorn", "console.wsgi:application"]
