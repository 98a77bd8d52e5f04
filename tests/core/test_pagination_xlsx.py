"""Page parameters (bounded, integer, Chinese errors) and the Excel export workbook."""

import io
import re

import pytest
from openpyxl import load_workbook

from server.core.errors import BusinessError
from server.core.pagination import MAX_PAGE_SIZE, Page, PageParams
from server.core.xlsx import workbook_bytes, xlsx_response

CJK = re.compile(r"[\u4e00-\u9fff]")


def refused(page: object, page_size: object) -> BusinessError:
    with pytest.raises(BusinessError) as info:
        PageParams.of(page, page_size)
    assert info.value.status_code == 400
    assert info.value.code == "invalid_page"
    assert CJK.search(info.value.detail)
    return info.value


def test_page_params_default_to_the_first_page_of_fifty():
    assert PageParams.of() == PageParams(1, 50)
    assert PageParams.of("", None) == PageParams(1, 50)


def test_page_params_accept_integer_strings_from_the_query():
    params = PageParams.of("3", "20")
    assert params == PageParams(3, 20)
    assert params.offset == 40


@pytest.mark.parametrize(("page", "page_size"), [("abc", 20), ("1.5", 20), (1, "x"), ([1], 20), (1, {})])
def test_page_params_refuse_non_integers(page, page_size):
    assert refused(page, page_size).detail == "分页参数必须是整数"


@pytest.mark.parametrize(("page", "page_size"), [(0, 20), ("0", 20), (-1, 20), (1, 0), (1, -5)])
def test_page_params_refuse_page_or_size_below_one(page, page_size):
    assert "超出范围" in refused(page, page_size).detail


def test_page_params_refuse_more_than_200_per_page():
    assert PageParams.of(1, MAX_PAGE_SIZE).page_size == 200
    assert "每页 1–200 条" in refused(1, 201).detail
    refused(1, 10**20)
    refused(10**20, 20)


def test_page_envelope_and_page_count():
    page = Page(["a", "b"], total=101, page=2, page_size=50)
    assert page.envelope() == {"items": ["a", "b"], "total": 101, "page": 2, "page_size": 50}
    assert page.pages == 3
    assert Page([], 0, 1, 50).pages == 1


def test_workbook_opens_with_a_bold_header_row_and_the_rows_below():
    data = workbook_bytes("机构列表", ["代码", "名称", "级别"], [("HQ", "总部", 1), ("B1", "一号网点", 2)])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "机构列表"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [("代码", "名称", "级别"), ("HQ", "总部", 1), ("B1", "一号网点", 2)]
    assert all(cell.font.bold for cell in sheet[1])
    assert not any(cell.font.bold for cell in sheet[2])


def test_workbook_title_is_cut_to_excel_limit_of_31_characters():
    data = workbook_bytes("长" * 40, ["A"], [])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "长" * 31
    assert sheet.max_row == 1


async def test_xlsx_response_is_an_attachment_with_an_encoded_chinese_filename():
    response = await xlsx_response("用户.xlsx", "用户", ["账号"], [("admin",)])
    assert response.media_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''%E7%94%A8%E6%88%B7.xlsx"
    assert load_workbook(io.BytesIO(response.content)).active["A2"].value == "admin"
